"""Access tokens, refresh tokens and the requester they identify.

Tokens are opaque random strings; only their SHA-256 digests are stored. An access token issued
with a refresh token expires (the client sees ``expires_in_ms``); an expired one answers
M_UNKNOWN_TOKEN with ``soft_logout: true`` so the client refreshes instead of logging out.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from ... import clock, db, errors
from ...db import write_transaction
from ...models.users import AccessToken, Device, LoginToken, RefreshToken, User
from .. import client_secrets
from ..write_behind import SeenTimes

# Writing last_seen on every request would turn every read into a write; once a minute is plenty.
LAST_SEEN_GRANULARITY_MS = 60_000


@dataclass(frozen=True)
class Requester:
    user_id: str
    device_id: str
    token_id: int
    is_admin: bool = False
    is_suspended: bool = False
    # A guest account (spec: Guest Access): api/guest_access.py lists what it may call.
    is_guest: bool = False
    # The application service (appservice.registrations.AppService) whose as_token made
    # this request, or None for a user's own access token.
    app_service: object | None = None

    @property
    def rate_limited(self) -> bool:
        """Whether rate limits apply (a service registered with rate_limited: false is free)."""
        return self.app_service is None or self.app_service.rate_limited


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str | None
    expires_in_ms: int | None

    def to_dict(self) -> dict:
        out = {"access_token": self.access_token}
        if self.refresh_token is not None:
            out["refresh_token"] = self.refresh_token
            out["expires_in_ms"] = self.expires_in_ms
        return out


def authenticate(token: str, ip: str | None = None, *, allow_locked: bool = False,
                 user_agent: str | None = None) -> Requester:
    """The requester an access token identifies, or UnknownToken / UserLocked / ...

    ``allow_locked``: for the endpoints a locked account may still use (logout, logout/all).
    """
    token_hash = client_secrets.digest(token)
    found = db.run_sql(_AUTHENTICATE, (token_hash,)).fetchone()
    if found is None:
        raise errors.UnknownToken("Unrecognised access token")
    (token_id, user_id, device_id, expires_ts, refresh_token_id, used, deactivated, locked,
     is_admin, suspended, is_guest, *seen) = found
    if deactivated:
        raise errors.UnknownToken("This account has been deactivated")
    if expires_ts is not None and expires_ts <= clock.now_ms():
        raise errors.UnknownToken("Access token has expired", soft_logout=True)
    if locked and not allow_locked:
        raise errors.UserLocked()
    if refresh_token_id is not None and not used:
        _retire_previous_tokens(token_id, refresh_token_id)
    _touch_device(token_hash, user_id, device_id, ip, user_agent, _Seen(*seen))
    return Requester(user_id=user_id, device_id=device_id, token_id=token_id,
                     is_admin=bool(is_admin), is_suspended=bool(suspended),
                     is_guest=bool(is_guest))


# Every authenticated request runs this: a fixed statement (db.run_sql).
_AUTHENTICATE = (
    f"SELECT t.id, t.user_id, t.device_id, t.expires_ts, t.refresh_token_id, t.used, "
    f"u.deactivated, u.locked, u.is_admin, u.suspended, u.is_guest, "
    f"d.last_seen_ts, d.last_seen_ip, d.last_seen_user_agent "
    f'FROM {AccessToken._meta.table_name} t JOIN "{User._meta.table_name}" u '
    f"ON u.user_id = t.user_id "
    f"LEFT JOIN {Device._meta.table_name} d "
    f"ON d.user_id = t.user_id AND d.device_id = t.device_id WHERE t.token_hash = ?")


def token_owner(token: str) -> User | None:
    """The live account a valid, unexpired access token belongs to (nothing recorded), or None."""
    row = (AccessToken.select(AccessToken, User).join(User)
           .where(AccessToken.token_hash == client_secrets.digest(token)).first())
    if row is None or row.user.deactivated:
        return None
    if row.expires_ts is not None and row.expires_ts <= clock.now_ms():
        return None
    return row.user


# Longer User-Agent headers are cut (the column's size).
MAX_USER_AGENT = 512


def _retire_previous_tokens(token_id: int, refresh_token_id: int) -> None:
    """First use of a refreshed access token: the refresh token that produced it is now spent."""
    with write_transaction():
        AccessToken.update(used=True).where(AccessToken.id == token_id).execute()
        RefreshToken.delete().where(RefreshToken.next_token_id == refresh_token_id).execute()


@dataclass(frozen=True)
class _Seen:
    """The device's row as authenticate read it (all None when the device has no row)."""
    ts: int | None = None
    ip: str | None = None
    user_agent: str | None = None


# When this process last wrote a token's new address or client, by (token hash, IP,
# User-Agent): a client alternating between two addresses writes at most once a minute each.
_touched: dict[tuple[str, str | None, str | None], int] = {}
_TOUCHED_KEPT = 50_000


def _write_seen(batch: list[tuple[tuple[str, str], int]]) -> None:
    for (user_id, device_id), seen_ts in batch:
        db.run_sql(_REFRESH_SEEN, (seen_ts, user_id, device_id, seen_ts))


_REFRESH_SEEN = (f"UPDATE {Device._meta.table_name} SET last_seen_ts = ? "
                 "WHERE user_id = ? AND device_id = ? "
                 "AND (last_seen_ts IS NULL OR last_seen_ts < ?)")
# Every idle client re-polls /sync: once a minute per device, its last_seen_ts alone would be
# a write transaction of its own (with a thousand clients, ~17 a second queued for SQLite's
# writer); written behind, all of a process's refreshes share one.
_seen = SeenTimes(LAST_SEEN_GRANULARITY_MS, _write_seen)


def _touch_device(token_hash: str, user_id: str, device_id: str, ip: str | None,
                  user_agent: str | None, stored: _Seen) -> None:
    """Record the device's use: a new address or client at once, a later time behind (at most
    once a minute either way; ``stored`` is the row as read with the token)."""
    now = clock.now_ms()
    stale = now - LAST_SEEN_GRANULARITY_MS
    user_agent = user_agent[:MAX_USER_AGENT] if user_agent else None
    moved = stored.ip != ip or (user_agent is not None and stored.user_agent != user_agent)
    if not moved:
        if stored.ts is None or stored.ts < stale:
            _seen.note((user_id, device_id), now)
        return
    key = (token_hash, ip, user_agent)
    if _touched.get(key, stale - 1) >= stale:
        return
    query = (Device.update(last_seen_ts=now, last_seen_ip=ip,
                           last_seen_user_agent=user_agent or Device.last_seen_user_agent)
             .where((Device.user == user_id) & (Device.device_id == device_id)))
    try:
        with write_transaction():
            query.execute()
    except (errors.DatabaseBusy, peewee.OperationalError):
        # A busy database must not fail the request just to record when a device was seen.
        return
    if len(_touched) >= _TOUCHED_KEPT:
        _touched.clear()
    _touched[key] = now


def issue_tokens(user_id: str, device_id: str, *, with_refresh: bool,
                 lifetime_ms: int) -> IssuedTokens:
    """Create an access token (and a refresh token when asked) for a device. Call in a txn."""
    now = clock.now_ms()
    access = client_secrets.generate("syt_")
    refresh = None
    expires_in = None
    new_refresh_id = None
    if with_refresh:
        refresh = client_secrets.generate("syr_")
        new_refresh_id = RefreshToken.insert(
            token_hash=client_secrets.digest(refresh), user=user_id, device_id=device_id,
            created_ts=now).execute()
        expires_in = lifetime_ms
    AccessToken.insert(
        token_hash=client_secrets.digest(access), user=user_id, device_id=device_id, created_ts=now,
        expires_ts=now + lifetime_ms if with_refresh else None,
        refresh_token_id=new_refresh_id).execute()
    return IssuedTokens(access, refresh, expires_in)


def refresh(refresh_token: str, lifetime_ms: int) -> IssuedTokens:
    """Exchange a refresh token for a new access + refresh token pair.

    The old refresh token keeps working until the new access token is first used, so a client
    that lost the response can retry; then it is deleted. Refreshes of one token are serialized
    (its row is locked), so concurrent ones never fork the chain: each later one supersedes
    the pair the earlier one issued, as a retry does, and one pair stays valid.
    """
    with write_transaction():
        query = (RefreshToken.select(RefreshToken, User).join(User)
                 .where(RefreshToken.token_hash == client_secrets.digest(refresh_token)))
        if not isinstance(db.database.obj, peewee.SqliteDatabase):
            query = query.for_update(of=RefreshToken)  # SQLite: BEGIN IMMEDIATE serializes
        row = query.first()
        if row is None or row.user.deactivated:
            raise errors.UnknownToken("Unrecognised refresh token", soft_logout=False)
        if row.user.locked:
            raise errors.UserLocked()
        issued = issue_tokens(row.user.user_id, row.device_id, with_refresh=True,
                              lifetime_ms=lifetime_ms)
        new_row = RefreshToken.get(
            RefreshToken.token_hash == client_secrets.digest(issued.refresh_token))
        # Access tokens minted from the old refresh token are superseded by the new pair.
        if row.next_token_id is not None:
            RefreshToken.delete().where(RefreshToken.id == row.next_token_id).execute()
            AccessToken.delete().where(AccessToken.refresh_token_id == row.next_token_id).execute()
        AccessToken.delete().where(AccessToken.refresh_token_id == row.id).execute()
        # Using this refresh token proves the client holds it: its predecessor is spent.
        RefreshToken.delete().where(RefreshToken.next_token_id == row.id).execute()
        RefreshToken.update(next_token_id=new_row.id).where(RefreshToken.id == row.id).execute()
        return issued


def revoke_device_tokens(user_id: str, device_id: str) -> None:
    """Forget every access and refresh token of one device. Call in a write transaction."""
    AccessToken.delete().where((AccessToken.user == user_id)
                               & (AccessToken.device_id == device_id)).execute()
    RefreshToken.delete().where((RefreshToken.user == user_id)
                                & (RefreshToken.device_id == device_id)).execute()


def revoke_all_tokens(user_id: str, except_device: str | None = None) -> None:
    """Forget the user's tokens (but ``except_device``'s) and login tokens. Call in a txn."""
    access = AccessToken.delete().where(AccessToken.user == user_id)
    refresh_q = RefreshToken.delete().where(RefreshToken.user == user_id)
    if except_device is not None:
        access = access.where(AccessToken.device_id != except_device)
        refresh_q = refresh_q.where(RefreshToken.device_id != except_device)
    access.execute()
    refresh_q.execute()
    LoginToken.delete().where(LoginToken.user == user_id).execute()


# --- m.login.token ------------------------------------------------------------------------------

# The spec recommends two minutes for tokens from POST /login/get_token.
LOGIN_TOKEN_LIFETIME_MS = 120_000


def create_login_token(user_id: str) -> tuple[str, int]:
    """A single-use token for m.login.token; returns (token, lifetime in ms)."""
    token = client_secrets.generate("syl_")
    now = clock.now_ms()
    with write_transaction():
        LoginToken.delete().where(LoginToken.expires_ts <= now).execute()
        LoginToken.insert(token_hash=client_secrets.digest(token), user=user_id,
                          expires_ts=now + LOGIN_TOKEN_LIFETIME_MS).execute()
    return token, LOGIN_TOKEN_LIFETIME_MS


def consume_login_token(token: str) -> str | None:
    """The user a login token names, spending it; None if unknown, used or expired."""
    digest = client_secrets.digest(token)
    with write_transaction():
        row = LoginToken.get_or_none(LoginToken.token_hash == digest)
        if row is None:
            return None
        # Deleting by digest and counting rows makes the token single-use under concurrency.
        deleted = LoginToken.delete().where(LoginToken.token_hash == digest).execute()
        if deleted != 1 or row.expires_ts <= clock.now_ms():
            return None
        return row.user_id
