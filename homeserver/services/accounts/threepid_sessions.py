"""Email validation sessions (spec: "Adding Account Administrative Contact Information",
"Password management", m.login.email.identity): POST .../email/requestToken mails a token to
an address; the user follows the link (a page of this server) or the client submits the token
to ``submit_url``; the session (``sid`` + ``client_secret``) then proves the address.

- ``send_attempt``: a request with an attempt not above the session's last one sends nothing
  and answers the same ``sid``; a higher one mails a new token (only the latest works).
- The token works for ``email.validation_token_lifetime_ms``; a validated session proves the
  address for SESSION_LIFETIME_MS after it started.
- Only the spec's own answers tell whether an address is on an account: M_THREEPID_IN_USE when
  registering or adding it, M_THREEPID_NOT_FOUND when resetting a password.
- Mails go through the outbox (mail/outbox.py), written in the session's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import peewee

from ... import clock, db, errors
from ...models.email import ThreepidSession
from .. import client_secrets
from ..mail import outbox as mail_outbox
from ..mail.smtp import normalise_address
from ..policy import ratelimit
from ..userdata import threepids

SESSION_LIFETIME_MS = 24 * 3600 * 1000
MAX_NEXT_LINK_LENGTH = 2000
# A stored BIGINT.
MIN_SEND_ATTEMPT, MAX_SEND_ATTEMPT = -(2 ** 63), 2 ** 63 - 1
# The spec's grammar of client_secret.
_CLIENT_SECRET = re.compile(r"[0-9a-zA-Z.=_-]{1,255}")

REGISTER, ADD, PASSWORD = "register", "add", "password"

# Where a validation link and the submit_url lead (api/email_validation.py).
VALIDATE_PATH = "/_homeserver/email/validate"
SUBMIT_PATH = "/_homeserver/email/submit_token"

_SUBJECTS = {
    REGISTER: "[{app}] Validate your email",
    ADD: "[{app}] Validate your email",
    PASSWORD: "[{app}] Password reset",
}
_INTROS = {
    REGISTER: "You have asked us to register this email with a new {app} account. If this "
              "was not you, do not follow the link: ignore this mail.",
    ADD: "You have asked us to add this email address to your {app} account. If this was "
         "not you, do not follow the link (it would add your address to somebody else's "
         "account): ignore this mail.",
    PASSWORD: "A password reset request has been received for your {app} account. If this "
              "was not you, do not follow the link: ignore this mail.",
}


@dataclass(frozen=True)
class TokenRequest:
    purpose: str
    client_secret: str
    email: str
    send_attempt: int
    next_link: str | None
    ip: str | None


def _check_client_secret(client_secret: str) -> None:
    if not _CLIENT_SECRET.fullmatch(client_secret):
        raise errors.InvalidParam("client_secret must match [0-9a-zA-Z.=_-]{1,255}")


def _check_next_link(next_link: str | None) -> None:
    if next_link is None:
        return
    parts = urlsplit(next_link)
    if (len(next_link) > MAX_NEXT_LINK_LENGTH or parts.scheme not in ("http", "https")
            or not parts.netloc):
        raise errors.InvalidParam("next_link must be an http(s) URL")


def _check_purpose(purpose: str, address: str) -> None:
    owner = threepids.owner(threepids.EMAIL, address)
    if purpose in (REGISTER, ADD) and owner is not None:
        raise errors.ThreepidInUse("This email address is already in use")
    if purpose == PASSWORD and owner is None:
        raise errors.ThreepidNotFound("This email address is not on any account of this server")


def _mail_text(settings: dict, purpose: str, link: str, token: str, lifetime_ms: int) -> str:
    app = settings["app_name"]
    minutes = lifetime_ms // 60000
    return (f"{_INTROS[purpose].format(app=app)}\n\n"
            f"To continue, open this link:\n\n{link}\n\n"
            f"Or, if your app asks for a code, enter: {token}\n\n"
            f"The link and the code work for {minutes} minutes.\n")


def request_token(request: TokenRequest, *, settings: dict, base_url: str,
                  rules: dict) -> dict:
    """POST .../email/requestToken; ``rules``: the rate-limit rules ``per_ip`` and
    ``per_address`` (None: no limit)."""
    _check_client_secret(request.client_secret)
    _check_next_link(request.next_link)
    if not MIN_SEND_ATTEMPT <= request.send_attempt <= MAX_SEND_ATTEMPT:
        raise errors.InvalidParam("send_attempt is out of range")
    address = normalise_address(request.email)
    ratelimit.check("email_request_ip", request.ip, rules.get("per_ip"))
    _check_purpose(request.purpose, address)
    now = clock.now_ms()
    key = ((ThreepidSession.client_secret == request.client_secret)
           & (ThreepidSession.medium == threepids.EMAIL)
           & (ThreepidSession.address == address)
           & (ThreepidSession.purpose == request.purpose))
    existing = ThreepidSession.get_or_none(key & (ThreepidSession.created_ts
                                                  > now - SESSION_LIFETIME_MS))
    if existing is not None and request.send_attempt <= existing.last_send_attempt:
        return _answer(existing.sid, base_url)
    # Counted only when a mail goes out: a retried attempt costs the mailbox nothing.
    ratelimit.check("email_request_address", address, rules.get("per_address"))
    token = client_secrets.generate("", 32)
    lifetime = settings["validation_token_lifetime_ms"]
    try:
        with db.write_transaction():
            ThreepidSession.delete().where(
                ThreepidSession.created_ts <= now - SESSION_LIFETIME_MS).execute()
            session = ThreepidSession.get_or_none(key)
            fields = {"last_send_attempt": request.send_attempt,
                      "token_digest": client_secrets.digest(token), "token_expires_ts": now + lifetime,
                      "next_link": request.next_link}
            if session is None:
                sid = client_secrets.generate("", 32)
                ThreepidSession.insert(sid=sid, client_secret=request.client_secret,
                                       medium=threepids.EMAIL, address=address,
                                       purpose=request.purpose, validated_ts=None,
                                       created_ts=now, **fields).execute()
            elif request.send_attempt <= session.last_send_attempt:
                return _answer(session.sid, base_url)  # a concurrent request sent it
            else:
                sid = session.sid
                ThreepidSession.update(**fields).where(ThreepidSession.sid == sid).execute()
            link = f"{base_url}{VALIDATE_PATH}?" + urlencode(
                {"sid": sid, "client_secret": request.client_secret, "token": token})
            mail_outbox.enqueue(settings, address,
                                _SUBJECTS[request.purpose].format(app=settings["app_name"]),
                                _mail_text(settings, request.purpose, link, token, lifetime))
    except peewee.IntegrityError:
        # Another request made this session at the same moment; it sent the mail.
        session = ThreepidSession.get(key)
        return _answer(session.sid, base_url)
    mail_outbox.kick(settings)
    return _answer(sid, base_url)


def _answer(sid: str, base_url: str) -> dict:
    return {"sid": sid, "submit_url": f"{base_url}{SUBMIT_PATH}"}


def _find(sid: str, client_secret: str) -> ThreepidSession | None:
    if not isinstance(sid, str) or not isinstance(client_secret, str) or len(sid) > 64:
        return None
    session = ThreepidSession.get_or_none(ThreepidSession.sid == sid)
    if (session is None or not client_secrets.same(session.client_secret, client_secret)
            or session.created_ts <= clock.now_ms() - SESSION_LIFETIME_MS):
        return None
    return session


def submit_token(sid: str, client_secret: str, token: str) -> ThreepidSession | None:
    """Validate the session with the mailed token; the session, or None if the token, the
    secret or the session is wrong or expired."""
    session = _find(sid, client_secret)
    if session is None or not isinstance(token, str):
        return None
    now = clock.now_ms()
    if session.validated_ts is not None:
        return session if client_secrets.same(session.token_digest, client_secrets.digest(token)) else None
    if session.token_expires_ts <= now or not client_secrets.same(session.token_digest,
                                                           client_secrets.digest(token)):
        return None
    with db.write_transaction():
        ThreepidSession.update(validated_ts=now).where(
            (ThreepidSession.sid == session.sid)
            & ThreepidSession.validated_ts.is_null()).execute()
    session.validated_ts = now
    return session


def is_password_reset(sid: str, client_secret: str) -> bool:
    """Whether a session is a password reset (its page asks for confirmation first)."""
    session = _find(sid, client_secret)
    return session is not None and session.purpose == PASSWORD


@dataclass(frozen=True)
class ValidatedAddress:
    medium: str
    address: str
    validated_at: int


def validated(threepid_creds) -> ValidatedAddress:
    """The address a validated session (``{"sid", "client_secret"}``) proves, or
    M_THREEPID_AUTH_FAILED (unknown, not yet validated or expired)."""
    if not isinstance(threepid_creds, dict):
        raise errors.MissingParam("threepid_creds (sid and client_secret) is required")
    sid, secret = threepid_creds.get("sid"), threepid_creds.get("client_secret")
    if not isinstance(sid, str) or not isinstance(secret, str):
        raise errors.MissingParam("threepid_creds needs sid and client_secret")
    session = _find(sid, secret)
    if session is None or session.validated_ts is None:
        raise errors.ThreepidAuthFailed("This email address has not been validated (follow "
                                        "the link in the mail first)")
    return ValidatedAddress(session.medium, session.address, session.validated_ts)
