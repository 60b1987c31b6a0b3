"""Login through external identity providers (services/sso/): who is who at which provider,
and the logins in progress in a browser."""

import peewee

from ..db import BaseModel
from .users import User


class UserExternalId(BaseModel):
    """A user at an identity provider (``idp_id``, the provider's subject) is this account."""

    idp_id = peewee.CharField(max_length=255)
    subject = peewee.CharField(max_length=255)
    user = peewee.ForeignKeyField(User, column_name="user_id", on_delete="CASCADE", index=True)
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("idp_id", "subject")


class SsoAttempt(BaseModel):
    """A browser sent to a provider, until the provider sends it back (single use).

    ``state`` travels through the provider; ``browser_hash`` is the digest of the cookie that
    only the browser which started the attempt holds. ``nonce`` and ``code_verifier`` (PKCE)
    bind the provider's answer to this attempt.
    """

    state_hash = peewee.CharField(primary_key=True, max_length=64)
    browser_hash = peewee.CharField(max_length=64)
    idp_id = peewee.CharField(max_length=255)
    nonce = peewee.CharField(max_length=128)
    code_verifier = peewee.CharField(max_length=128)
    client_redirect_url = peewee.TextField()
    # Set when the attempt is a user-interactive auth stage rather than a login.
    uia_session_id = peewee.CharField(null=True, max_length=64)
    expires_ts = peewee.BigIntegerField(index=True)


class SsoPendingRegistration(BaseModel):
    """A new user the provider vouched for, choosing a username before the account exists."""

    token_hash = peewee.CharField(primary_key=True, max_length=64)
    browser_hash = peewee.CharField(max_length=64)
    idp_id = peewee.CharField(max_length=255)
    subject = peewee.CharField(max_length=255)
    suggested_localpart = peewee.CharField(null=True, max_length=255)
    display_name = peewee.TextField(null=True)
    client_redirect_url = peewee.TextField()
    expires_ts = peewee.BigIntegerField(index=True)
