"""Email: the mail outbox, validation sessions and the accounts' addresses (models/email.py)."""

from ..models.email import OutgoingMail, ThreepidSession, UserThreepid


def up(db):
    db.create_tables([OutgoingMail, ThreepidSession, UserThreepid])
