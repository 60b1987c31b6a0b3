"""POST /login (m.login.password and m.login.token) and the flows GET /login lists."""

from __future__ import annotations

from dataclasses import dataclass

from ... import db, errors
from ..policy import ratelimit
from . import accounts, access_tokens, devices, uia
from .passwords import verify_password

PASSWORD = "m.login.password"
TOKEN = "m.login.token"
SSO = "m.login.sso"


APPLICATION_SERVICE = "m.login.application_service"


def flows(identity_providers: list[dict] | None = None, *,
          with_app_services: bool = False) -> dict:
    """GET /login; ``identity_providers``: those of services/sso (m.login.sso only with some);
    m.login.application_service when application services are configured."""
    listed = [{"type": PASSWORD}, {"type": TOKEN, "get_login_token": True}]
    if identity_providers:
        listed.append({"type": SSO, "identity_providers": identity_providers})
    if with_app_services:
        listed.append({"type": APPLICATION_SERVICE})
    return {"flows": listed}


@dataclass(frozen=True)
class LoginLimits:
    """The rate-limit rules that apply to login (None: no limit)."""

    per_ip: dict | None = None
    per_user: dict | None = None
    failures_per_user: dict | None = None


def _password_user(body: dict, server_name: str, ip: str | None, limits: LoginLimits) -> str:
    """The user a correct password proves. Only failures count against a user, and per
    address: a stranger's wrong guesses fill the stranger's bucket, not the owner's."""
    user_id = accounts.identified_user(body.get("identifier"), body.get("user"), server_name,
                                       legacy_medium=body.get("medium"),
                                       legacy_address=body.get("address"))
    # Unknown users are limited under the name they were tried with, like real ones.
    failures_key = f"{ip}|{user_id or _tried_name(body)}"
    ratelimit.ensure_room("login_failures", failures_key, limits.failures_per_user)
    password = body.get("password")
    if not isinstance(password, str):
        raise errors.MissingParam("Missing parameter: password")
    user = accounts.get_user(user_id) if user_id else None
    if user is not None and user.deactivated:
        raise errors.UserDeactivated()
    if user is None or not verify_password(user.password_hash, password):
        ratelimit.record("login_failures", failures_key, limits.failures_per_user)
        raise errors.Forbidden("Invalid username or password")
    # Successful logins per account (each mints a device and tokens), whoever asks.
    ratelimit.check("login_user", user_id, limits.per_user)
    return user_id


def _tried_name(body: dict) -> str | None:
    identifier = body.get("identifier")
    if isinstance(identifier, dict) and isinstance(identifier.get("user"), str):
        return identifier["user"].lower()
    user = body.get("user")
    return user.lower() if isinstance(user, str) else None


def _token_user(body: dict) -> str:
    token = body.get("token")
    if not isinstance(token, str):
        raise errors.MissingParam("Missing parameter: token")
    user_id = access_tokens.consume_login_token(token)
    if user_id is None:
        raise errors.Forbidden("Invalid or expired login token")
    user = accounts.get_user(user_id)
    if user is None or user.deactivated:
        raise errors.UserDeactivated()
    return user_id


def login(body: dict, *, server_name: str, ip: str | None, limits: LoginLimits,
          token_lifetime_ms: int) -> dict:
    ratelimit.check("login_ip", ip, limits.per_ip)
    kind = body["type"]
    if kind == PASSWORD:
        user_id = _password_user(body, server_name, ip, limits)
    elif kind == TOKEN:
        user_id = _token_user(body)
    else:
        raise errors.Unknown(f"Unknown login type: {kind}")
    if accounts.get_user(user_id).locked:
        raise errors.UserLocked()

    device_id = body.get("device_id")
    if device_id is not None:
        devices.check_login_device_id(user_id, device_id)
    with db.write_transaction():
        if device_id is None:
            device_id = devices.new_device_id(user_id)
        devices.ensure_device(user_id, device_id, body.get("initial_device_display_name"), ip)
        issued = access_tokens.issue_tokens(
            user_id, device_id, with_refresh=bool(body.get("refresh_token")),
            lifetime_ms=token_lifetime_ms)
    return {"user_id": user_id, "device_id": device_id, "home_server": server_name,
            **issued.to_dict()}


def issue_login_token(passed: uia.UiaPassed, *, per_user: dict | None) -> dict:
    """POST /login/get_token after its user-interactive auth: a single-use m.login.token."""
    ratelimit.check("login_token", passed.user_id, per_user)
    token, lifetime_ms = uia.complete(
        passed, lambda: access_tokens.create_login_token(passed.user_id))
    return {"login_token": token, "expires_in_ms": lifetime_ms}


def refresh(refresh_token: str, *, token_lifetime_ms: int) -> dict:
    return access_tokens.refresh(refresh_token, token_lifetime_ms).to_dict()


def logout(user_id: str, device_id: str) -> None:
    """Invalidate the token's device (the spec deletes the device with it)."""
    devices.delete_devices(user_id, [device_id])


def logout_all(user_id: str) -> None:
    devices.delete_devices(user_id, None)
