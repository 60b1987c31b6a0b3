"""The stages of user-interactive authentication this server offers (spec: "Authentication
types"), each a check and a commit: the check runs outside any transaction (it may be slow,
e.g. argon2), the commit inside the transaction that records the stage as completed. Both may
raise ``StageFailed``. The sessions and flows around them are ``uia``.
"""

from __future__ import annotations

from ... import errors
from ..policy import ratelimit
from . import accounts, registration_tokens, threepid_sessions
from .passwords import verify_password

DUMMY = "m.login.dummy"
PASSWORD = "m.login.password"
REGISTRATION_TOKEN = "m.login.registration_token"
# Completed only in a browser, through the fallback page (services/sso/uia_stage.py).
SSO = "m.login.sso"
EMAIL_IDENTITY = "m.login.email.identity"


class StageFailed(Exception):
    def __init__(self, message: str, errcode: str = "M_FORBIDDEN"):
        super().__init__(message)
        self.message = message
        self.errcode = errcode


def _check_dummy(session, auth, request):
    return {}


def _check_password(session, auth, request):
    user_id = session.user_id
    if user_id is None:
        raise StageFailed("The password stage needs an access token: sign in first")
    if auth.get("identifier") is not None or auth.get("user") is not None:
        try:
            named = accounts.identified_user(auth.get("identifier"), auth.get("user"),
                                             request.server_name)
        except errors.MatrixError as exc:
            raise StageFailed(exc.message, exc.errcode) from None
        if named != user_id:
            # 403 outright, as Synapse (its check comes after the stage; this one never
            # checks the other user's password, so it tells nothing about it).
            raise errors.Forbidden("The password must be that of the user this session is for")
    ratelimit.check("login_ip", request.ip, request.ip_rule)
    failures_key = f"{request.ip}|{user_id}"
    ratelimit.ensure_room("login_failures", failures_key, request.failure_rule)
    password = auth.get("password")
    user = accounts.get_user(user_id)
    if (not isinstance(password, str) or user is None or user.deactivated
            or not verify_password(user.password_hash, password)):
        ratelimit.record("login_failures", failures_key, request.failure_rule)
        raise StageFailed("Invalid password")
    return {}


def _check_registration_token(session, auth, request):
    token = auth.get("token")
    if not isinstance(token, str):
        raise StageFailed("Missing registration token", "M_MISSING_PARAM")
    return {"token": token}


def _commit_registration_token(session, prepared):
    if not registration_tokens.reserve(prepared["token"]):
        raise StageFailed("Invalid registration token")
    return prepared


def _check_email_identity(session, auth, request):
    # threepidCreds: the name before the spec settled on threepid_creds (Synapse takes both).
    creds = auth.get("threepid_creds", auth.get("threepidCreds"))
    try:
        proven = threepid_sessions.validated(creds)
    except errors.MatrixError as exc:
        raise StageFailed(exc.message, exc.errcode) from None
    return {"medium": proven.medium, "address": proven.address,
            "validated_at": proven.validated_at}


def _commit_plain(session, prepared):
    return prepared


def _check_sso(session, auth, request):
    raise StageFailed("Sign in with single sign-on on this stage's fallback page first")


STAGES = {
    DUMMY: (_check_dummy, _commit_plain),
    PASSWORD: (_check_password, _commit_plain),
    REGISTRATION_TOKEN: (_check_registration_token, _commit_registration_token),
    SSO: (_check_sso, _commit_plain),
    EMAIL_IDENTITY: (_check_email_identity, _commit_plain),
}

SUPPORTED_STAGES = frozenset(STAGES)
