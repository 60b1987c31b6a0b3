"""Account registration (POST /register after its user-interactive auth has passed)."""

from __future__ import annotations

import secrets
import string
from typing import Protocol

from ... import db, errors
from ..push import pushers
from ..userdata import threepids
from . import access_tokens, accounts, devices, guest_expiry, registration_tokens, uia, uia_stages
from .passwords import hash_password, verify_password

_GENERATED_ALPHABET = string.ascii_lowercase + string.digits


class Registry(Protocol):
    """The application services' namespaces (``appservice.registrations.Registry``), of
    which registration needs only this: a user ID in an exclusive namespace is refused."""

    def check_not_reserved(self, user_id: str) -> None: ...


def flows(require_token: bool, *, email: bool = False,
          require_email: bool = False) -> list[list[str]]:
    """The registration flows: a token first if required; with ``email`` (mail configured)
    also a flow proving an address, which ``require_email`` makes the only one."""
    first = [uia.REGISTRATION_TOKEN] if require_token else []
    plain = first or [uia_stages.DUMMY]
    with_email = first + [uia.EMAIL_IDENTITY]
    if require_email:
        return [with_email]
    return [plain, with_email] if email else [plain]


def precheck(body: dict, server_name: str, registry: Registry) -> None:
    """What the spec asks to be refused before user-interactive auth: a bad or taken username,
    or one an application service reserves (M_EXCLUSIVE); a guest upgrading takes its own
    (see ``_upgraded_guest``)."""
    if body.get("guest_access_token") is not None:
        _upgraded_guest(body, server_name)
    elif body.get("username") is not None:
        accounts.check_available(_chosen_user_id(body["username"], server_name, registry))
    if body.get("password") is not None:
        accounts.validate_password(body["password"])
    if body.get("device_id") is not None:
        devices.validate_device_id(body["device_id"])


def _chosen_user_id(username: str, server_name: str, registry: Registry) -> str:
    """The user ID a username asks for, unless reserved: for guests, or by an application
    service (M_EXCLUSIVE)."""
    user_id = accounts.user_id_for_username(username, server_name)
    accounts.check_choosable(user_id, registry)
    return user_id


def _upgraded_guest(body: dict, server_name: str) -> str:
    """The guest account a registration with ``guest_access_token`` upgrades (spec: Guest
    Access): the token must be a guest's, and ``username`` that guest's localpart."""
    guest = access_tokens.token_owner(body["guest_access_token"])
    if body.get("username") is None:
        raise errors.MissingParam("Upgrading a guest account needs its username")
    user_id = accounts.user_id_for_username(body["username"], server_name)
    if guest is None or not guest.is_guest or guest.user_id != user_id:
        raise errors.Forbidden(
            "Cannot register a taken user ID without valid guest credentials for that user")
    return user_id


def _generated_user_id(server_name: str, prefix: str = "u") -> str:
    while True:
        localpart = prefix + "".join(secrets.choice(_GENERATED_ALPHABET) for _ in range(11))
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
    upgrading = body.get("guest_access_token") is not None
    with db.write_transaction():
        if upgrading:
            # Same user ID, rooms and history: the account just stops being a guest's.
            user_id = _upgraded_guest(body, server_name)
            if not accounts.upgrade_guest(user_id, password_hash):
                raise errors.Forbidden("This guest account was upgraded or deactivated already")
        else:
            user_id = (_chosen_user_id(body["username"], server_name, registry)
                       if body.get("username") is not None else _generated_user_id(server_name))
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


def register_guest(body: dict, *, server_name: str, token_lifetime_ms: int,
                   idle_expiry_ms: int | None, ip: str | None = None) -> dict:
    """POST /register?kind=guest (spec: Guest Access): a new guest account with a device and
    its access token; no password, no user-interactive auth. The server picks the device ID
    (as Synapse: a guest has nowhere to keep one of its own)."""
    user_id = _generated_user_id(server_name, prefix=accounts.GUEST_PREFIX)
    with db.write_transaction():
        accounts.create_user(user_id, None, guest=True)
        response = logged_in(user_id, {**body, "device_id": None}, server_name=server_name,
                             token_lifetime_ms=token_lifetime_ms, ip=ip)
    guest_expiry.ensure_running(idle_expiry_ms)
    return response


def username_available(username: str, server_name: str, registry: Registry) -> dict:
    accounts.check_available(_chosen_user_id(username, server_name, registry))
    return {"available": True}
