"""Registration tokens (m.login.registration_token): created by the operator, spent by sign-ups.

A token is usable while it has not expired and ``pending + completed < uses_allowed`` (no
limit when ``uses_allowed`` is null). ``pending`` counts UIA sessions that passed the token
stage but have not registered yet, so a token with one use left cannot be spent twice.
"""

from __future__ import annotations

import re
import secrets
import string

import peewee

from ... import clock, db, errors
from ...models.users import RegistrationToken

# The spec's opaque identifier grammar, at most 64 characters.
_TOKEN_GRAMMAR = re.compile(r"[A-Za-z0-9._~-]{1,64}")
_ALPHABET = string.ascii_letters + string.digits
DAY_MS = 24 * 60 * 60 * 1000


def is_valid_token_string(token: str) -> bool:
    return isinstance(token, str) and bool(_TOKEN_GRAMMAR.fullmatch(token))


def _usable(row: RegistrationToken, now: int) -> bool:
    if row.expiry_ts is not None and row.expiry_ts <= now:
        return False
    if row.uses_allowed is not None and row.pending + row.completed >= row.uses_allowed:
        return False
    return True


def is_valid(token: str) -> bool:
    """Point-in-time check for GET /register/m.login.registration_token/validity."""
    if not is_valid_token_string(token):
        return False
    row = RegistrationToken.get_or_none(RegistrationToken.token == token)
    return row is not None and _usable(row, clock.now_ms())


def reserve(token: str) -> bool:
    """Hold one use of the token for a registration in progress. Call in a write transaction.

    One guarded UPDATE: under READ COMMITTED a concurrent reservation waits for the row and
    re-checks the condition against the committed count, so uses are never over-reserved.
    """
    if not is_valid_token_string(token):
        return False
    now = clock.now_ms()
    T = RegistrationToken
    usable = ((T.token == token)
              & (T.expiry_ts.is_null() | (T.expiry_ts > now))
              & (T.uses_allowed.is_null() | (T.pending + T.completed < T.uses_allowed)))
    return T.update(pending=T.pending + 1).where(usable).execute() == 1


def release(token: str) -> None:
    """A reserved use was not spent (the session expired). Call in a write transaction."""
    (RegistrationToken.update(pending=RegistrationToken.pending - 1)
     .where((RegistrationToken.token == token) & (RegistrationToken.pending > 0)).execute())


def complete(token: str) -> None:
    """A reserved use became a registration. Call in the registering transaction."""
    (RegistrationToken.update(pending=RegistrationToken.pending - 1,
                              completed=RegistrationToken.completed + 1)
     .where((RegistrationToken.token == token) & (RegistrationToken.pending > 0)).execute())


# --- administration (the `homeserver registration-token` command) --------------------------------

def create(token: str | None = None, *, length: int = 16, uses_allowed: int | None = None,
           expiry_days: float | None = None, expiry_ts: int | None = None) -> dict:
    """A new token (random when not given), expiring after ``expiry_days`` or at
    ``expiry_ts`` (ms), or never."""
    if token is None:
        if not 1 <= length <= 64:
            raise errors.InvalidParam("length must be between 1 and 64")
        token = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    elif not is_valid_token_string(token):
        raise errors.InvalidParam(
            "a token is 1 to 64 characters from A-Z, a-z, 0-9, '.', '_', '~' and '-'")
    if uses_allowed is not None and uses_allowed < 0:
        raise errors.InvalidParam("uses allowed cannot be negative")
    if expiry_days is not None and expiry_days <= 0:
        raise errors.InvalidParam("expiry days must be positive")
    now = clock.now_ms()
    if expiry_days is not None:
        expiry_ts = now + int(expiry_days * DAY_MS)
    _check_expiry(expiry_ts, now)
    try:
        with db.write_transaction():
            RegistrationToken.insert(token=token, uses_allowed=uses_allowed, pending=0,
                                     completed=0, expiry_ts=expiry_ts, created_ts=now).execute()
    except peewee.IntegrityError:
        raise errors.InvalidParam(f"the token {token} already exists") from None
    return describe(RegistrationToken.get(RegistrationToken.token == token))


def describe(row: RegistrationToken) -> dict:
    return {"token": row.token, "uses_allowed": row.uses_allowed, "pending": row.pending,
            "completed": row.completed, "expiry_ts": row.expiry_ts,
            "valid": _usable(row, clock.now_ms())}


def list_tokens() -> list[dict]:
    return [describe(row) for row in
            RegistrationToken.select().order_by(RegistrationToken.created_ts,
                                                RegistrationToken.token)]


def delete(token: str) -> bool:
    with db.write_transaction():
        return RegistrationToken.delete().where(RegistrationToken.token == token).execute() > 0


def _check_expiry(expiry_ts: int | None, now: int) -> None:
    if expiry_ts is not None and expiry_ts < now:
        raise errors.InvalidParam("expiry_time must not be in the past")


def get(token: str) -> dict:
    row = RegistrationToken.get_or_none(RegistrationToken.token == token)
    if row is None:
        raise errors.NotFound(f"No such registration token: {token}")
    return describe(row)


def update(token: str, changes: dict) -> dict:
    """Change ``uses_allowed`` and/or ``expiry_ts`` (null: unlimited, never)."""
    if changes.get("uses_allowed") is not None and changes["uses_allowed"] < 0:
        raise errors.InvalidParam("uses allowed cannot be negative")
    if "expiry_ts" in changes:
        _check_expiry(changes["expiry_ts"], clock.now_ms())
    with db.write_transaction():
        if changes:
            fields = {getattr(RegistrationToken, key): value for key, value in changes.items()}
            RegistrationToken.update(fields).where(RegistrationToken.token == token).execute()
        return get(token)
