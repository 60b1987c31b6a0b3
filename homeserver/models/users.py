"""Accounts, devices, tokens and interactive-auth sessions."""

import peewee

from ..db import BaseModel


class User(BaseModel):
    user_id = peewee.CharField(primary_key=True, max_length=255)
    password_hash = peewee.TextField(null=True)
    is_admin = peewee.BooleanField(default=False)
    deactivated = peewee.BooleanField(default=False)
    locked = peewee.BooleanField(default=False)
    suspended = peewee.BooleanField(default=False)
    # Registered with kind=guest (spec: Guest Access) and not upgraded since.
    is_guest = peewee.BooleanField(default=False, index=True)
    displayname = peewee.TextField(null=True)
    avatar_url = peewee.TextField(null=True)
    created_ts = peewee.BigIntegerField()


class Device(BaseModel):
    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    device_id = peewee.CharField(max_length=255)
    display_name = peewee.TextField(null=True)
    last_seen_ip = peewee.CharField(null=True, max_length=64)
    last_seen_ts = peewee.BigIntegerField(null=True)
    last_seen_user_agent = peewee.CharField(null=True, max_length=512)
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user", "device_id")


class AccessToken(BaseModel):
    """An access token, stored as the SHA-256 digest of the token the client holds."""

    token_hash = peewee.CharField(unique=True, max_length=64)
    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    device_id = peewee.CharField(max_length=255)
    created_ts = peewee.BigIntegerField()
    # null: never expires (the client did not ask for a refresh token).
    expires_ts = peewee.BigIntegerField(null=True)
    # The refresh token this access token was issued with, if any.
    refresh_token_id = peewee.IntegerField(null=True, index=True)
    # Set when this token has been used once, so its predecessors may be retired.
    used = peewee.BooleanField(default=False)

    class Meta:
        indexes = ((("user", "device_id"), False),)


class RefreshToken(BaseModel):
    token_hash = peewee.CharField(unique=True, max_length=64)
    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    device_id = peewee.CharField(max_length=255)
    created_ts = peewee.BigIntegerField()
    # After a refresh the old refresh token stays valid until the new access token is used.
    next_token_id = peewee.IntegerField(null=True)

    class Meta:
        indexes = ((("user", "device_id"), False),)


class LoginToken(BaseModel):
    """Short-lived single-use tokens for m.login.token (from POST /login/get_token)."""

    token_hash = peewee.CharField(unique=True, max_length=64)
    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    expires_ts = peewee.BigIntegerField(index=True)


class UiaSession(BaseModel):
    """User-interactive auth progress; in the database so any worker can continue a session.

    A session is bound to the request that started it: its method and path, and (once a
    request carried one) a digest of its body without ``auth`` and secret fields.
    """

    session_id = peewee.CharField(primary_key=True, max_length=64)
    request_method = peewee.CharField(max_length=8)
    request_path = peewee.TextField()
    # sha256 of the canonical JSON body (secrets left out); null until a request carried a body.
    body_digest = peewee.CharField(null=True, max_length=64)
    # The bound body without secrets, JSON, so a client may resubmit just {"auth": {"session"}}.
    body = peewee.TextField(null=True)
    # No longer written (secrets are hashed only when a flow completes); kept for old rows.
    secret_hashes = peewee.TextField(default="{}")
    # The user the session acts for: the requester, or whom the password stage proved.
    user_id = peewee.CharField(null=True, max_length=255)
    flows = peewee.TextField()  # JSON list of lists of stage types
    params = peewee.TextField(default="{}")  # JSON
    completed = peewee.TextField(default="[]")  # JSON list of completed stage types
    stage_results = peewee.TextField(default="{}")  # JSON: per-stage data (e.g. the token used)
    created_ts = peewee.BigIntegerField(index=True)
    # Set when the operation the session authorised ran: a retry then gets its result (the
    # row lives until it expires). ``outcome``: JSON the operation left for retries, no secrets.
    spent_ts = peewee.BigIntegerField(null=True)
    outcome = peewee.TextField(null=True)


class RegistrationToken(BaseModel):
    token = peewee.CharField(primary_key=True, max_length=64)
    uses_allowed = peewee.IntegerField(null=True)
    pending = peewee.IntegerField(default=0)
    completed = peewee.IntegerField(default=0)
    expiry_ts = peewee.BigIntegerField(null=True)
    created_ts = peewee.BigIntegerField()


class RateLimitBucket(BaseModel):
    """A token bucket shared by every worker: its level at updated_ts, draining at the rule's rate.

    ``drained_ts`` is when the level reaches zero; rows past it are empty and may be deleted.
    """

    key = peewee.CharField(primary_key=True, max_length=512)
    level = peewee.DoubleField()
    updated_ts = peewee.BigIntegerField()
    drained_ts = peewee.BigIntegerField(index=True)


class RegistrationNonce(BaseModel):
    """A nonce of shared-secret registration (GET /_synapse/admin/v1/register), spent by the
    POST that uses it; unspent ones expire (services/accounts/shared_secret_registration.py)."""

    nonce = peewee.CharField(primary_key=True, max_length=64)
    created_ts = peewee.BigIntegerField(index=True)
