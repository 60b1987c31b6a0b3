"""Notification mails: what each email pusher's mails covered (services/push/email_notifs.py)."""

from ..models.email import EmailPusherState


def up(db):
    db.create_tables([EmailPusherState])
