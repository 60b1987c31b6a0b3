"""Email: the outbox of mails to send, address validation sessions, and the addresses
(third-party identifiers) on accounts (services/mail/outbox.py,
accounts/threepid_sessions.py, accounts/threepids.py)."""

import peewee

from ..db import BaseModel


class OutgoingMail(BaseModel):
    """A mail waiting for the SMTP server: written in the transaction that decided to send it,
    deleted once the server accepted it (or refused it for good, or it was too old)."""

    id = peewee.AutoField()
    recipient = peewee.CharField(max_length=320)
    # The whole message (headers and body) as the SMTP server will get it.
    message = peewee.TextField()
    attempts = peewee.IntegerField(default=0)
    # Due from this time; a sender working on the row pushes it forward first (its claim).
    next_attempt_ts = peewee.BigIntegerField(index=True)
    created_ts = peewee.BigIntegerField()


class ThreepidSession(BaseModel):
    """An email validation session (the spec's requestToken ``sid``): the client that knows
    ``client_secret`` proves it received the token mailed to ``address``."""

    sid = peewee.CharField(primary_key=True, max_length=64)
    client_secret = peewee.CharField(max_length=255)
    medium = peewee.CharField(max_length=16)
    address = peewee.CharField(max_length=320)
    # register | add | password: which requestToken endpoint started it.
    purpose = peewee.CharField(max_length=16)
    last_send_attempt = peewee.BigIntegerField()
    # SHA-256 of the token in the latest mail; only that one works.
    token_digest = peewee.CharField(max_length=64)
    token_expires_ts = peewee.BigIntegerField()
    next_link = peewee.TextField(null=True)
    validated_ts = peewee.BigIntegerField(null=True)
    created_ts = peewee.BigIntegerField(index=True)

    class Meta:
        indexes = ((("client_secret", "medium", "address", "purpose"), True),)


class UserThreepid(BaseModel):
    """A validated third-party identifier of an account; one account per identifier."""

    user_id = peewee.CharField(max_length=255, index=True)
    medium = peewee.CharField(max_length=16)
    address = peewee.CharField(max_length=320)
    validated_at = peewee.BigIntegerField()
    added_at = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("medium", "address")


class EmailPusherState(BaseModel):
    """What the notification mails of an email pusher (kind "email") have covered."""

    pusher_id = peewee.IntegerField(primary_key=True)
    # Whose pusher it was made for: a reused pusher ID (SQLite) starts a new state.
    user_id = peewee.CharField(max_length=255)
    pushkey = peewee.CharField(max_length=512)
    # Notifications up to this time (their ``ts``) were in a mail already.
    mailed_upto_ts = peewee.BigIntegerField()
    last_mail_ts = peewee.BigIntegerField(null=True)
    # The sweeps of all processes look at a pusher once per interval: the first claims it.
    next_check_ts = peewee.BigIntegerField(default=0)
    # In the mails' unsubscribe link; it only removes this pusher.
    unsubscribe_token = peewee.CharField(max_length=64, unique=True)
