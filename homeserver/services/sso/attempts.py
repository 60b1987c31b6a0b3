"""Logins in progress, bound to the browser that started them.

The browser holds a random secret in a cookie (HttpOnly, SameSite=Lax); the database holds its
digest with each attempt. ``state`` (through the provider) finds the attempt, the cookie proves
it is the same browser, and taking the attempt deletes it: a callback URL works once, only in
the browser that started it, and only until ``sso.session_lifetime_ms`` has passed (spec: SSO
"Security considerations" 2, unsolicited authentication attempts).
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import clock, db
from ...models.sso import SsoAttempt, SsoPendingRegistration
from .. import client_secrets
from .errors import SsoError

COOKIE_NAME = "homeserver_sso"
_SECRET_PREFIX = "sso_"
_SECRET_LENGTH = 43

EXPIRED = "This sign-in link has expired or was already used: start again from your app"


def browser_secret(cookie_value: str | None) -> tuple[str, bool]:
    """(the browser's secret, whether it is new): one secret per browser, so two tabs signing
    in at once do not invalidate each other."""
    if isinstance(cookie_value, str) and cookie_value.startswith(_SECRET_PREFIX):
        body = cookie_value[len(_SECRET_PREFIX):]
        if len(body) == _SECRET_LENGTH and body.isascii() and body.isalnum():
            return cookie_value, False
    return client_secrets.generate(_SECRET_PREFIX, _SECRET_LENGTH), True


@dataclass(frozen=True)
class Attempt:
    idp_id: str
    nonce: str
    code_verifier: str
    client_redirect_url: str
    uia_session_id: str | None


def _delete_expired(now: int) -> None:
    SsoAttempt.delete().where(SsoAttempt.expires_ts <= now).execute()
    SsoPendingRegistration.delete().where(SsoPendingRegistration.expires_ts <= now).execute()


def record(*, state: str, browser: str, idp_id: str, nonce: str, code_verifier: str,
           client_redirect_url: str, lifetime_ms: int, uia_session_id: str | None = None) -> None:
    now = clock.now_ms()
    with db.write_transaction():
        _delete_expired(now)
        SsoAttempt.insert(state_hash=client_secrets.digest(state),
                          browser_hash=client_secrets.digest(browser),
                          idp_id=idp_id, nonce=nonce, code_verifier=code_verifier,
                          client_redirect_url=client_redirect_url,
                          uia_session_id=uia_session_id, expires_ts=now + lifetime_ms).execute()


def take(state, browser: str | None) -> Attempt:
    """The attempt ``state`` names, deleted; SsoError unless this browser started it in time."""
    if not isinstance(state, str) or not state or browser is None:
        raise SsoError(EXPIRED)
    state_hash, browser_hash = client_secrets.digest(state), client_secrets.digest(browser)
    with db.write_transaction():
        row = SsoAttempt.get_or_none((SsoAttempt.state_hash == state_hash)
                                     & (SsoAttempt.browser_hash == browser_hash))
        if row is None:
            raise SsoError(EXPIRED)
        # Deleting by key and counting rows makes the attempt single-use under concurrency.
        deleted = SsoAttempt.delete().where(SsoAttempt.state_hash == state_hash).execute()
    if deleted != 1 or row.expires_ts <= clock.now_ms():
        raise SsoError(EXPIRED)
    return Attempt(row.idp_id, row.nonce, row.code_verifier, row.client_redirect_url,
                   row.uia_session_id)


@dataclass(frozen=True)
class PendingRegistration:
    token: str
    idp_id: str
    subject: str
    suggested_localpart: str | None
    display_name: str | None
    client_redirect_url: str


def record_registration(*, browser: str, idp_id: str, subject: str, suggested: str | None,
                        display_name: str | None, client_redirect_url: str,
                        lifetime_ms: int) -> PendingRegistration:
    token = client_secrets.generate("", 32)
    now = clock.now_ms()
    with db.write_transaction():
        _delete_expired(now)
        SsoPendingRegistration.insert(
            token_hash=client_secrets.digest(token), browser_hash=client_secrets.digest(browser),
            idp_id=idp_id,
            subject=subject, suggested_localpart=suggested, display_name=display_name,
            client_redirect_url=client_redirect_url, expires_ts=now + lifetime_ms).execute()
    return PendingRegistration(token, idp_id, subject, suggested, display_name,
                               client_redirect_url)


def pending_registration(token, browser: str | None) -> PendingRegistration:
    """The registration this browser is choosing a username for (not consumed)."""
    if not isinstance(token, str) or not token or browser is None:
        raise SsoError(EXPIRED)
    row = SsoPendingRegistration.get_or_none(
        (SsoPendingRegistration.token_hash == client_secrets.digest(token))
        & (SsoPendingRegistration.browser_hash == client_secrets.digest(browser)))
    if row is None or row.expires_ts <= clock.now_ms():
        raise SsoError(EXPIRED)
    return PendingRegistration(token, row.idp_id, row.subject, row.suggested_localpart,
                               row.display_name, row.client_redirect_url)


def finish_registration(token: str) -> None:
    """Spend the pending registration. Call in the transaction that creates the account;
    SsoError if a concurrent submission spent it first."""
    deleted = (SsoPendingRegistration.delete()
               .where(SsoPendingRegistration.token_hash == client_secrets.digest(token)).execute())
    if deleted != 1:
        raise SsoError(EXPIRED)
