"""Accounts: creating them, finding the user a login names, passwords and deactivation."""

from __future__ import annotations

import peewee

from ... import clock, db, errors
from ...identifiers import is_valid_localpart, split_id, user_id_for
from ...models.users import LoginToken, User
from ..userdata import threepids
from . import devices
from .passwords import MAX_PASSWORD_LENGTH, hash_password

MAX_USER_ID_BYTES = 255

# Guest accounts are named GUEST_PREFIX + random characters; nobody else may take such a name
# (as Synapse reserves numeric user IDs for guests), so no one passes for a guest or takes a
# name a guest is given next.
GUEST_PREFIX = "guest-"


def validate_localpart(localpart: str, server_name: str) -> str:
    """The user ID for a requested localpart, or M_INVALID_USERNAME saying why not."""
    if not isinstance(localpart, str) or not localpart:
        raise errors.InvalidUsername("User ID cannot be empty")
    if localpart.startswith("_"):
        raise errors.InvalidUsername("User ID may not begin with '_'")
    if not is_valid_localpart(localpart):
        raise errors.InvalidUsername(
            "User ID can only contain characters a-z, 0-9, or '=_-./+'")
    user_id = user_id_for(localpart, server_name)
    if len(user_id.encode("utf-8")) > MAX_USER_ID_BYTES:
        raise errors.InvalidUsername("User ID is too long")
    return user_id


def check_choosable(user_id: str, app_services) -> None:
    """A name someone may choose for a new account (every way of choosing one checks it:
    /register, single sign-on): M_INVALID_USERNAME for a guest's name, M_EXCLUSIVE for one in
    an application service's exclusive namespace (``app_services``: its Registry)."""
    if user_id[1:].startswith(GUEST_PREFIX):
        raise errors.InvalidUsername(f"User IDs starting with '{GUEST_PREFIX}' are reserved "
                                     "for guest accounts")
    app_services.check_not_reserved(user_id)


def user_id_for_username(username: str, server_name: str) -> str:
    """The user ID a requested username maps to: the spec asks servers to downcase it."""
    return validate_localpart(username.lower(), server_name)


def check_available(user_id: str) -> None:
    if user_exists(user_id):
        raise errors.UserInUse("User ID already taken")


def user_exists(user_id: str) -> bool:
    return User.select().where(User.user_id == user_id).exists()


def get_user(user_id: str) -> User | None:
    return User.get_or_none(User.user_id == user_id)


def validate_password(password: str) -> None:
    if not password:
        raise errors.WeakPassword("The password cannot be empty")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise errors.InvalidParam(
            f"The password cannot be longer than {MAX_PASSWORD_LENGTH} characters")


def create_user(user_id: str, password: str | None, *, admin: bool = False,
                displayname: str | None = None, password_hash: str | None = None,
                guest: bool = False) -> User:
    """Insert a new account (M_USER_IN_USE if taken). The display name defaults to the localpart.

    Give either the password or its ``password_hash`` (UIA keeps only the hash); a ``guest``
    has neither.
    """
    if password is not None:
        password_hash = hash_password(password)
    localpart = user_id[1:].split(":", 1)[0]
    try:
        with db.write_transaction():
            if user_exists(user_id):
                raise errors.UserInUse("User ID already taken")
            return User.create(user_id=user_id, password_hash=password_hash, is_admin=admin,
                               displayname=displayname if displayname is not None else localpart,
                               is_guest=guest, created_ts=clock.now_ms())
    except peewee.IntegrityError:
        raise errors.UserInUse("User ID already taken") from None


def upgrade_guest(user_id: str, password_hash: str) -> bool:
    """A guest account becomes a full one with this password (call in a write transaction);
    False if it is no longer a live guest account (a concurrent upgrade, an expiry)."""
    return (User.update(is_guest=False, password_hash=password_hash)
            .where((User.user_id == user_id) & User.is_guest & ~User.deactivated)
            .execute()) == 1


# --- who a login names --------------------------------------------------------------------------

def user_id_candidates(user: str, server_name: str) -> list[str]:
    """The local user IDs a login's ``user`` (a user ID or a localpart) may mean, best first.

    New accounts have lower-case localparts, so ``Alice`` and ``@ALICE:server`` find
    ``@alice:server``; the exact spelling is tried first for accounts from before that rule.
    """
    if user.startswith("@"):
        parts = split_id(user, "@")
        if parts is None or parts[1] != server_name:
            return []
        localpart = parts[0]
    else:
        localpart = user
    if not localpart or ":" in localpart:
        return []
    exact = user_id_for(localpart, server_name)
    lowered = user_id_for(localpart.lower(), server_name)
    return [exact] if exact == lowered else [exact, lowered]


def identified_user(identifier: dict | None, legacy_user, server_name: str,
                    *, legacy_medium=None, legacy_address=None) -> str | None:
    """The user ID an ``identifier`` (or the deprecated top-level ``user``, or ``medium`` and
    ``address``) names.

    Answers None when it names no account here. A third-party identifier names the account
    holding that email address (``threepids``); phone numbers name none.
    """
    if identifier is None:
        if legacy_user is not None:
            identifier = {"type": "m.id.user", "user": legacy_user}
        elif legacy_medium is not None:
            identifier = {"type": "m.id.thirdparty", "medium": legacy_medium,
                          "address": legacy_address}
        else:
            raise errors.MissingParam("Missing identifier")
    if not isinstance(identifier, dict):
        raise errors.BadJson("identifier must be an object")
    kind = identifier.get("type")
    if kind == "m.id.user":
        user = identifier.get("user")
        if not isinstance(user, str):
            raise errors.BadJson("identifier.user must be a string")
        for candidate in user_id_candidates(user, server_name):
            if user_exists(candidate):
                return candidate
        return None
    if kind == "m.id.thirdparty" and identifier.get("medium") == threepids.EMAIL:
        address = identifier.get("address")
        if not isinstance(address, str):
            raise errors.BadJson("identifier.address must be a string")
        # Unknown like a wrong password (no account enumeration through login).
        return threepids.owner(threepids.EMAIL, address.strip().lower())
    if kind in ("m.id.thirdparty", "m.id.phone"):
        raise errors.Forbidden("No account is associated with this third-party identifier")
    raise errors.InvalidParam(f"Unknown identifier type: {kind!r}")


# --- password and deactivation ------------------------------------------------------------------

def change_password(user_id: str, *, password_hash: str, logout_devices: bool,
                    keep_device: str | None) -> None:
    """Set a new password; with ``logout_devices``, delete every device but ``keep_device``."""
    with db.write_transaction():
        User.update(password_hash=password_hash).where(User.user_id == user_id).execute()
        if logout_devices:
            others = [d["device_id"] for d in devices.list_devices(user_id)
                      if d["device_id"] != keep_device]
            devices.delete_devices(user_id, others)
            LoginToken.delete().where(LoginToken.user == user_id).execute()


