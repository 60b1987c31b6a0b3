"""Server administration (spec module "Server Administration"): account locking and
suspension by server admins, and whois.

Authorisation is checked before any account lookup, so a non-admin learns nothing about
which accounts exist (the spec asks for that to prevent user enumeration). Admins may not
lock or suspend themselves, nor look at or change another admin's lock or suspension.

Locking and suspension take effect on the account's next request: ``auth.authenticate``
reads both flags from the account row on every request (a lock answers 401 M_USER_LOCKED;
suspension is enforced by ``services.policy.suspension``). Access tokens are kept, as the spec
asks, so lifting either restores every session.
"""

from __future__ import annotations

from ... import errors, identifiers
from ...db import write_transaction
from ...models.users import Device, User
from .access_tokens import Requester

FLAGS = ("locked", "suspended")


def require_admin(requester: Requester) -> None:
    if not requester.is_admin:
        raise errors.Forbidden("You are not a server administrator")


def _target(requester: Requester, user_id: str, server_name: str, *, changing: bool) -> User:
    """The local, live account an admin acts on (after the admin check, never before)."""
    require_admin(requester)
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam(f"{user_id!r} is not a valid user ID")
    if identifiers.server_of(user_id) != server_name:
        raise errors.InvalidParam("User does not belong to the local server")
    if changing and user_id == requester.user_id:
        raise errors.Forbidden("You cannot change this for your own account")
    user = User.get_or_none(User.user_id == user_id)
    if user is None or user.deactivated:
        raise errors.NotFound("User not found")
    if user.is_admin and user_id != requester.user_id:
        raise errors.Forbidden("The target user is a server administrator")
    return user


def get_flag(requester: Requester, user_id: str, flag: str, server_name: str) -> dict:
    """GET /admin/lock|suspend/{userId}: ``{flag: bool}``."""
    user = _target(requester, user_id, server_name, changing=False)
    return {flag: bool(getattr(user, flag))}


def set_flag(requester: Requester, user_id: str, flag: str, value: bool,
             server_name: str) -> dict:
    """PUT /admin/lock|suspend/{userId}: set the flag (idempotent) and answer its value."""
    if flag not in FLAGS:
        raise ValueError(flag)
    with write_transaction():
        _target(requester, user_id, server_name, changing=True)
        User.update({getattr(User, flag): value}).where(User.user_id == user_id).execute()
    return {flag: value}


def moderation_capability(requester: Requester) -> dict:
    """The m.account_moderation capability: present only for those who may use it (the spec
    says to omit it when both would be false)."""
    if not requester.is_admin:
        return {}
    return {"m.account_moderation": {"suspend": True, "lock": True}}


def whois(requester: Requester, user_id: str) -> dict:
    """GET /admin/whois/{userId}: for server admins and the user themselves.

    Each device is one session (the login that created it); its one connection is where and
    when the device was last seen, and with which User-Agent.
    """
    if not (requester.is_admin or requester.user_id == user_id):
        raise errors.Forbidden("Only server administrators can look up other users")
    user = User.get_or_none(User.user_id == user_id)
    if user is None:
        raise errors.NotFound("User not found")
    devices = {}
    for device in Device.select().where(Device.user == user_id).order_by(Device.device_id):
        connections = []
        if device.last_seen_ts is not None:
            connection = {"last_seen": device.last_seen_ts}
            if device.last_seen_ip is not None:
                connection["ip"] = device.last_seen_ip
            if device.last_seen_user_agent is not None:
                connection["user_agent"] = device.last_seen_user_agent
            connections.append(connection)
        devices[device.device_id] = {"sessions": [{"connections": connections}]}
    # is_guest: not in the spec's response; marks guest accounts for admins (as Synapse's
    # admin API does).
    return {"user_id": user_id, "devices": devices, "is_guest": user.is_guest}
