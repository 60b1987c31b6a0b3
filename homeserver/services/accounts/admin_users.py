"""Account administration for server admins, in the shapes of Synapse's admin API (the
``/_synapse/admin`` user paths that synapse-admin, scripts and Ansible roles speak) and for
the ``homeserver users`` command.

Every change goes through the services that own it: profile changes through
``profile.write_field`` (new member events in the user's rooms), password changes through
``accounts.change_password``, deactivation through ``deactivation.deactivate_account``,
device deletion through ``devices.delete_devices``. Guests are marked ``is_guest`` (and
``guests=false`` leaves them out); this server keeps no third-party IDs, shadow bans or
approval queue, so those fields are always false or empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from ... import errors, identifiers
from ...db import write_transaction
from ...models.erasure import ErasedUser
from ...models.users import Device, User
from ..sql_text import contains, localpart_contains
from ..users import profile
from . import accounts, deactivation, devices
from .passwords import hash_password

# Orderings of GET /v2/users; the ones every account shares (no user types or shadow bans
# here) order by name alone.
_CONSTANT_ORDERS = ("user_type", "shadow_banned")


@dataclass(frozen=True)
class UserQuery:
    offset: int = 0
    limit: int = 100
    user_id: str | None = None
    name: str | None = None
    admins: bool | None = None
    guests: bool = True
    deactivated: bool = False
    locked: bool = False
    order_by: str = "name"
    backwards: bool = False


def local_user(user_id: str, server_name: str) -> str:
    """400 for what is not a local user ID (as Synapse answers), before any lookup."""
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam(f"{user_id!r} is not a valid user ID")
    if identifiers.server_of(user_id) != server_name:
        raise errors.InvalidParam("Can only look up local users")
    return user_id


def existing_user(user_id: str, server_name: str) -> User:
    user = User.get_or_none(User.user_id == local_user(user_id, server_name))
    if user is None:
        raise errors.NotFound("User not found")
    return user


def _last_seen():
    return (Device.select(peewee.fn.MAX(Device.last_seen_ts))
            .where(Device.user == User.user_id))


def _erased():
    return ErasedUser.select(ErasedUser.user_id).where(ErasedUser.user_id == User.user_id)


def _describe(user: User, last_seen_ts, erased: bool) -> dict:
    """One account as Synapse's list and query endpoints describe it."""
    return {"name": user.user_id, "displayname": user.displayname,
            "avatar_url": user.avatar_url, "is_guest": bool(user.is_guest), "admin": bool(user.is_admin),
            "user_type": None, "deactivated": bool(user.deactivated), "erased": erased,
            "shadow_banned": False, "creation_ts": user.created_ts, "approved": True,
            "locked": bool(user.locked), "suspended": bool(user.suspended),
            "last_seen_ts": last_seen_ts}


def list_users(query: UserQuery) -> dict:
    """GET /v2/users: one page, the total matching, and ``next_token`` while more remain."""
    select = User.select(User, _last_seen().alias("last_seen"),
                         peewee.fn.EXISTS(_erased()).alias("is_erased"))
    conditions = []
    if query.name:
        conditions.append(localpart_contains(User.user_id, query.name.lower())
                          | contains(User.displayname, query.name.lower()))
    elif query.user_id:
        conditions.append(contains(User.user_id, query.user_id.lower()))
    if query.admins is not None:
        conditions.append(User.is_admin == query.admins)
    if not query.guests:
        conditions.append(User.is_guest == False)  # noqa: E712
    if not query.deactivated:
        conditions.append(User.deactivated == False)  # noqa: E712
    if not query.locked:
        conditions.append(User.locked == False)  # noqa: E712
    for condition in conditions:
        select = select.where(condition)
    total = select.count()
    key = {"name": User.user_id, "admin": User.is_admin, "is_guest": User.is_guest,
           "deactivated": User.deactivated,
           "displayname": User.displayname, "avatar_url": User.avatar_url,
           "creation_ts": User.created_ts, "locked": User.locked,
           "last_seen_ts": peewee.SQL("last_seen")}.get(query.order_by, User.user_id)
    order = [key.desc() if query.backwards else key.asc()]
    if query.order_by not in ("name",) + _CONSTANT_ORDERS:
        order.append(User.user_id.desc() if query.backwards else User.user_id.asc())
    rows = list(select.order_by(*order).offset(query.offset).limit(query.limit))
    out = {"users": [_describe(row, row.last_seen, bool(row.is_erased)) for row in rows],
           "total": total}
    if query.offset + len(rows) < total and rows:
        out["next_token"] = str(query.offset + len(rows))
    return out


def get_user(user_id: str, server_name: str) -> dict:
    """GET /v2/users/{userId}."""
    user = existing_user(user_id, server_name)
    last_seen = (Device.select(peewee.fn.MAX(Device.last_seen_ts))
                 .where(Device.user == user.user_id).scalar())
    erased = ErasedUser.select().where(ErasedUser.user_id == user.user_id).exists()
    return {**_describe(user, last_seen, erased), "threepids": [], "external_ids": [],
            "appservice_id": None, "consent_server_notice_sent": None,
            "consent_version": None, "consent_ts": None}


def put_user(admin_id: str, user_id: str, changes: dict, server_name: str,
             media_store=None) -> tuple[dict, bool]:
    """PUT /v2/users/{userId}: create the account or change what the body names. Returns the
    account as GET describes it, and whether it was created."""
    local_user(user_id, server_name)
    password = changes.get("password")
    if password is not None:
        accounts.validate_password(password)
    user = User.get_or_none(User.user_id == user_id)
    created = user is None
    if created:
        accounts.validate_localpart(user_id[1:].split(":", 1)[0], server_name)
        if changes.get("deactivated"):
            raise errors.InvalidParam("A new account cannot be deactivated")
        accounts.create_user(user_id, password, admin=bool(changes.get("admin")),
                             displayname=changes.get("displayname"))
        if changes.get("locked"):
            User.update(locked=True).where(User.user_id == user_id).execute()
        if changes.get("avatar_url") is not None:
            profile.write_field(user_id, profile.AVATAR_URL,
                                {profile.AVATAR_URL: changes["avatar_url"]})
        return get_user(user_id, server_name), True
    _modify(admin_id, user, changes, media_store)
    return get_user(user_id, server_name), False


def _modify(admin_id: str, user: User, changes: dict, media_store) -> None:
    user_id = user.user_id
    if changes.get("admin") is False and user_id == admin_id:
        raise errors.InvalidParam("You may not demote yourself.")
    if changes.get("deactivated") is False and user.deactivated:
        if changes.get("password") is None:
            raise errors.InvalidParam("Must provide a password to re-activate an account.")
        with write_transaction():
            User.update(deactivated=False).where(User.user_id == user_id).execute()
        user = User.get(User.user_id == user_id)
    if not user.deactivated:
        for key in (profile.DISPLAYNAME, profile.AVATAR_URL):
            if changes.get(key) is not None:
                profile.write_field(user_id, key, {key: changes[key]})
    if changes.get("password") is not None:
        accounts.change_password(user_id, password_hash=hash_password(changes["password"]),
                                 logout_devices=changes.get("logout_devices", True),
                                 keep_device=None)
    flags = {column: changes[key] for key, column in
             (("admin", User.is_admin), ("locked", User.locked))
             if changes.get(key) is not None}
    if flags:
        with write_transaction():
            User.update(flags).where(User.user_id == user_id).execute()
    if changes.get("deactivated") and not user.deactivated:
        deactivate(user_id, erase=bool(changes.get("erase")), media_store=media_store)


def deactivate(user_id: str, *, erase: bool, media_store=None) -> dict:
    """POST /v1/deactivate/{userId}: what POST /account/deactivate does, for an admin."""
    unbound = deactivation.unbind_threepids(user_id)
    orphaned = deactivation.deactivate_account(user_id, erase=erase)
    deactivation.after_commit(user_id, orphaned, media_store)
    return unbound


def reset_password(user_id: str, new_password: str, *, logout_devices: bool) -> None:
    """POST /v1/reset_password/{userId}."""
    accounts.validate_password(new_password)
    accounts.change_password(user_id, password_hash=hash_password(new_password),
                             logout_devices=logout_devices, keep_device=None)


def user_devices(user_id: str) -> dict:
    """GET /v2/users/{userId}/devices."""
    rows = Device.select().where(Device.user == user_id).order_by(Device.device_id)
    listed = [describe_device(row) for row in rows]
    return {"devices": listed, "total": len(listed)}


def describe_device(row: Device) -> dict:
    return {"device_id": row.device_id, "display_name": row.display_name,
            "last_seen_ip": row.last_seen_ip, "last_seen_ts": row.last_seen_ts,
            "last_seen_user_agent": row.last_seen_user_agent, "user_id": row.user_id,
            "dehydrated": False}


def user_device(user_id: str, device_id: str) -> dict:
    row = Device.get_or_none((Device.user == user_id) & (Device.device_id == device_id))
    if row is None:
        raise errors.NotFound("Device not found")
    return describe_device(row)


def delete_devices(user_id: str, device_ids: list[str]) -> None:
    devices.delete_devices(user_id, device_ids)
