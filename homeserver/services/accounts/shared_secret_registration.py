"""Shared-secret registration, as Synapse's ``/_synapse/admin/v1/register`` (what
``register_new_matrix_user`` and deployment scripts use): whoever knows
``registration.shared_secret`` creates accounts, admins included, without open registration.

GET hands out a nonce (kept in the database, so any worker accepts it; valid for a minute,
spent once); POST carries it with ``mac`` = hex HMAC-SHA1 keyed by the secret over
``nonce NUL username NUL password NUL ("admin"|"notadmin")``. The localpart is the username
lower-cased (the MAC covers it as sent).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ... import clock, errors
from ...db import write_transaction
from ...models.users import RegistrationNonce
from . import access_tokens, accounts, devices

NONCE_LIFETIME_MS = 60_000
# Unspent nonces at once; beyond this GET answers 429 (nonces cost a row each).
MAX_LIVE_NONCES = 1000


def _enabled(secret: str | None) -> str:
    if not secret:
        raise errors.InvalidParam("Shared secret registration is not enabled")
    return secret


def new_nonce(secret: str | None) -> dict:
    _enabled(secret)
    now = clock.now_ms()
    nonce = secrets.token_hex(32)
    with write_transaction():
        RegistrationNonce.delete().where(
            RegistrationNonce.created_ts <= now - NONCE_LIFETIME_MS).execute()
        if RegistrationNonce.select().count() >= MAX_LIVE_NONCES:
            raise errors.LimitExceeded(NONCE_LIFETIME_MS,
                                       "Too many registration nonces outstanding")
        RegistrationNonce.insert(nonce=nonce, created_ts=now).execute()
    return {"nonce": nonce}


def expected_mac(secret: str, nonce: str, username: str, password: str, admin: bool) -> str:
    message = "\0".join((nonce, username, password, "admin" if admin else "notadmin"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest()


def register(secret: str | None, body: dict, *, server_name: str, ip: str | None) -> dict:
    """POST: check the nonce and MAC, create the account, log it in (a new device)."""
    secret = _enabled(secret)
    nonce, username, password = body["nonce"], body["username"], body["password"]
    if "\0" in username or "\0" in password:
        raise errors.InvalidParam("Invalid username or password")
    accounts.validate_password(password)
    mac = expected_mac(secret, nonce, username, password, body["admin"])
    now = clock.now_ms()
    with write_transaction():
        spent = RegistrationNonce.delete().where(
            (RegistrationNonce.nonce == nonce)
            & (RegistrationNonce.created_ts > now - NONCE_LIFETIME_MS)).execute()
        if not spent:
            raise errors.InvalidParam("unrecognised nonce")
    if not hmac.compare_digest(mac, body["mac"].lower()):
        raise errors.Forbidden("HMAC incorrect")
    user_id = accounts.validate_localpart(username.lower(), server_name)
    with write_transaction():
        accounts.create_user(user_id, password, admin=body["admin"],
                             displayname=body["displayname"])
        device_id = devices.new_device_id(user_id)
        devices.ensure_device(user_id, device_id, None, ip)
        issued = access_tokens.issue_tokens(user_id, device_id, with_refresh=False,
                                            lifetime_ms=0)
    return {"user_id": user_id, "home_server": server_name, "device_id": device_id,
            **issued.to_dict()}
