"""Account registration (POST /register after its user-interactive auth has passed)."""

from __future__ import annotations

import secrets
import string

from ... import db, errors
from ..appservice.registrations import Registry
from ..push import pushers
from . import accounts, access_tokens, devices, registration_tokens, threepids, uia
from .passwords import hash_password, verify_password

_GENERATED_ALPHABET = string.ascii_lowercase + string.digits


def flows(require_token: bool, *, email: bool = False,
          require_email: bool = False) -> list[list[str]]:
    """The registration flows: a token first if required; with ``email`` (mail configured)
    also a flow proving an address, which ``require_email`` makes the only one."""
    first = [uia.REGISTRATION_TOKEN] if require_token else []
    plain = first or [uia.DUMMY]
    with_email = first + [uia.EMAIL_IDENTITY]
    if require_email:
        return [with_email]
    return [plain, with_email] if email else [plain]


def precheck(body: dict, server_name: str, registry: Registry) -> None:
    """What the spec asks to be refused before user-interactive auth: a bad or taken username,
    or one an application service reserves (M_EXCLUSIVE)."""
    if body.get("username") is not None:
        user_id = accounts.user_id_for_username(body["username"], server_name)
        registry.check_not_reserved(user_id)
        accounts.check_available(user_id)
    if body.get("password") is not None:
        accounts.validate_password(body["password"])
    if body.get("device_id") is not None:
        devices.validate_device_id(body["device_id"])


def _generated_user_id(server_name: str) -> str:
    while True:
        localpart = "u" + "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(11))
        user_id = accounts.validate_localpart(localpart, server_name)
        if not accounts.user_exists(user_id):
            return user_id


def register(body: dict, passed: uia.UiaPassed, *, server_name: str, token_lifetime_ms: int,
             registry: Registry, ip: str | None = None, email_pusher: bool = False) -> dict:
    """Create the account (and, unless ``inhibit_login``, a device and its tokens).

    The password is hashed only here, once the flow is complete. ``email_pusher``: an address
    the registration proved gets an email pusher (notification mails). A retry of a completed
    registration answers for the account it created (with the password: a login again).
    """
    password = body.get("password")
    if password is None:
        raise errors.MissingParam("Missing parameter: password")
    if passed.replayed:
        return _registered_again(body, passed, server_name=server_name,
                                 token_lifetime_ms=token_lifetime_ms, ip=ip)
    precheck(body, server_name, registry)
    password_hash = hash_password(password)
    if body.get("username") is not None:
        user_id = accounts.user_id_for_username(body["username"], server_name)
    else:
        user_id = _generated_user_id(server_name)

    with db.write_transaction():
        accounts.create_user(user_id, None, password_hash=password_hash)
        email = passed.stage_results.get(uia.EMAIL_IDENTITY)
        if email is not None:
            threepids.add(user_id, email["medium"], email["address"], email["validated_at"])
            if email_pusher:
                pushers.add_email_pusher(user_id, email["address"])
        token = passed.stage_results.get(uia.REGISTRATION_TOKEN, {}).get("token")
        if token is not None:
            registration_tokens.complete(token)
        uia.finish(passed.session_id, {"user_id": user_id})
        return logged_in(user_id, body, server_name=server_name,
                          token_lifetime_ms=token_lifetime_ms, ip=ip)


def _registered_again(body: dict, passed: uia.UiaPassed, *, server_name: str,
                      token_lifetime_ms: int, ip: str | None) -> dict:
    user_id = passed.outcome.get("user_id")
    user = accounts.get_user(user_id) if user_id else None
    if user is None or user.deactivated:
        raise errors.UserDeactivated()
    if not verify_password(user.password_hash, body["password"]):
        raise errors.Forbidden("This authentication session registered an account already")
    with db.write_transaction():
        return logged_in(user_id, body, server_name=server_name,
                          token_lifetime_ms=token_lifetime_ms, ip=ip)


def logged_in(user_id: str, body: dict, *, server_name: str, token_lifetime_ms: int,
               ip: str | None) -> dict:
    """The registration response; call in a write transaction."""
    if body.get("inhibit_login"):
        return {"user_id": user_id, "home_server": server_name}
    device_id = body.get("device_id") or devices.new_device_id(user_id)
    devices.ensure_device(user_id, device_id, body.get("initial_device_display_name"), ip)
    issued = access_tokens.issue_tokens(
        user_id, device_id, with_refresh=bool(body.get("refresh_token")),
        lifetime_ms=token_lifetime_ms)
    return {"user_id": user_id, "device_id": device_id, "home_server": server_name,
            **issued.to_dict()}


def username_available(username: str, server_name: str, registry: Registry) -> dict:
    user_id = accounts.user_id_for_username(username, server_name)
    registry.check_not_reserved(user_id)
    accounts.check_available(user_id)
    return {"available": True}
