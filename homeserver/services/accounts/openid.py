"""OpenID tokens (spec module "OpenID"): POST /user/{userId}/openid/request_token gives a user a
short-lived token that a third-party service exchanges, through the federation API's
``/openid/userinfo``, for the user's ID. The token is good for nothing else (it is not an
access token). Only its SHA-256 digest is stored.
"""

from __future__ import annotations

from ... import clock, errors
from ...db import write_transaction
from ...models.openid import OpenIdToken
from .. import client_secrets

LIFETIME_S = 3600


def request_token(requester_user_id: str, user_id: str, server_name: str) -> dict:
    if requester_user_id != user_id:
        raise errors.Forbidden("You can only request OpenID tokens for your own user")
    token = client_secrets.generate("oit_")
    now = clock.now_ms()
    with write_transaction():
        OpenIdToken.delete().where(OpenIdToken.expires_ts <= now).execute()
        OpenIdToken.insert(token_digest=client_secrets.digest(token), user_id=user_id,
                           expires_ts=now + LIFETIME_S * 1000).execute()
    return {"access_token": token, "token_type": "Bearer", "matrix_server_name": server_name,
            "expires_in": LIFETIME_S}


def user_for_token(token: str) -> str | None:
    """The user an unexpired OpenID token was issued to (for ``/openid/userinfo``), or None."""
    row = OpenIdToken.get_or_none((OpenIdToken.token_digest == client_secrets.digest(token))
                                  & (OpenIdToken.expires_ts > clock.now_ms()))
    return row.user_id if row is not None else None
