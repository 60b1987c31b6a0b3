"""User profiles (spec: Profiles): display name, avatar URL and custom fields.

``displayname`` and ``avatar_url`` are columns of the user (they also appear in m.room.member
events); every other field (``m.tz`` and namespaced custom keys) is a row of ``ProfileField``
holding any JSON value. The whole profile, serialized, must stay under 64 KiB.

Only a user's own profile can be changed. Looking a profile up needs no token: the spec requires
at least the profiles of users visible through rooms to be readable, and this server (like most)
lets every local profile be read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ... import errors
from ...db import database, write_transaction
from ...identifiers import is_valid_server_name, is_valid_user_id
from ...models.profile import ProfileField
from ...models.users import User
from ..ephemeral import presence
from ..policy import suspension
from ..writing import membership

# The spec: "the total profile MUST be under 64 KiB"; a key is at most 255 bytes.
MAX_PROFILE_BYTES = 64 * 1024
MAX_KEY_BYTES = 255
# Display names and avatar URLs are copied into every m.room.member event of the user, whose
# size is limited too; these are the limits most servers apply.
MAX_DISPLAYNAME_LENGTH = 256
MAX_AVATAR_URL_LENGTH = 1000

DISPLAYNAME = "displayname"
AVATAR_URL = "avatar_url"
TIME_ZONE = "m.tz"
USER_COLUMNS = (DISPLAYNAME, AVATAR_URL)

# Custom keys follow the Common Namespaced Identifier Grammar, namespaced (at least one dot),
# as the keyName pattern of the spec's profile API asks.
_CUSTOM_KEY = re.compile(r"[a-z][a-z0-9_\-]*(\.[a-z][a-z0-9_\-]*)+")
_MXC_URI = re.compile(r"mxc://([^/]+)/([A-Za-z0-9_\-]+)")


class ProfileTooLarge(errors.MatrixError):
    errcode, status = "M_PROFILE_TOO_LARGE", 400
    default_message = "The profile would exceed its maximum size of 64 KiB"


class KeyTooLarge(errors.MatrixError):
    errcode, status = "M_KEY_TOO_LARGE", 400
    default_message = "Profile keys may be at most 255 bytes long"


@dataclass(frozen=True)
class ProfileChange:
    """What a successful change did, so callers can propagate display name / avatar changes."""

    user_id: str
    key: str
    changed: bool

    @property
    def affects_membership(self) -> bool:
        return self.changed and self.key in USER_COLUMNS


def check_key(key: str) -> None:
    """M_KEY_TOO_LARGE for an over-long key, M_INVALID_PARAM for one outside the grammar."""
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise KeyTooLarge()
    if key in USER_COLUMNS or key == TIME_ZONE or _CUSTOM_KEY.fullmatch(key):
        return
    raise errors.InvalidParam(
        f"Invalid profile key {key!r}: use displayname, avatar_url, m.tz or a namespaced key "
        "such as com.example.field")


def is_mxc_uri(value: str) -> bool:
    match = _MXC_URI.fullmatch(value)
    return bool(match) and is_valid_server_name(match.group(1))


def _check_user_id(user_id: str) -> None:
    if not is_valid_user_id(user_id):
        raise errors.InvalidParam(f"Invalid user ID: {user_id!r}")


def _live_user(user_id: str) -> User:
    user = User.get_or_none(User.user_id == user_id)
    if user is None or user.deactivated:
        raise errors.NotFound("Profile not found")
    return user


def _custom_fields(user_id: str) -> dict:
    rows = ProfileField.select().where(ProfileField.user == user_id).order_by(ProfileField.key)
    return {row.key: json.loads(row.value) for row in rows}


def _assemble(user: User, custom: dict) -> dict:
    profile = {}
    if user.displayname is not None:
        profile[DISPLAYNAME] = user.displayname
    if user.avatar_url is not None:
        profile[AVATAR_URL] = user.avatar_url
    for key, value in custom.items():
        profile.setdefault(key, value)
    return profile


def get_profile(user_id: str) -> dict:
    """The complete profile of a local user (M_NOT_FOUND for unknown or deactivated users)."""
    _check_user_id(user_id)
    user = _live_user(user_id)
    return _assemble(user, _custom_fields(user_id))


def get_field(user_id: str, key: str) -> dict:
    """``{key: value}`` for one field; M_NOT_FOUND when the user or the field does not exist."""
    _check_user_id(user_id)
    check_key(key)
    user = _live_user(user_id)
    if key in USER_COLUMNS:
        value = getattr(user, key)
        if value is None:
            raise errors.NotFound(f"The user has no {key}")
        return {key: value}
    row = ProfileField.get_or_none((ProfileField.user == user_id) & (ProfileField.key == key))
    if row is None:
        raise errors.NotFound(f"The user has no profile field {key}")
    return {key: json.loads(row.value)}


def _check_own(requester, user_id: str) -> None:
    _check_user_id(user_id)
    if requester.user_id != user_id:
        raise errors.Forbidden("You can only change your own profile")
    suspension.ensure_not_suspended(requester, "You cannot change your profile while suspended")


def _value_for(key: str, body: dict):
    """The new value from the request body, checked against what the key allows."""
    if key not in body:
        raise errors.MissingParam(f"The body must contain the key {key!r}")
    value = body[key]
    if key == DISPLAYNAME:
        if not isinstance(value, str):
            raise errors.BadJson("displayname must be a string")
        if len(value) > MAX_DISPLAYNAME_LENGTH:
            raise errors.InvalidParam(
                f"displayname is too long (at most {MAX_DISPLAYNAME_LENGTH} characters)")
        # An empty display name removes it, as clients expect.
        return value or None
    if key == AVATAR_URL:
        if not isinstance(value, str):
            raise errors.BadJson("avatar_url must be a string")
        if value == "":
            return None
        if len(value) > MAX_AVATAR_URL_LENGTH or not is_mxc_uri(value):
            raise errors.InvalidParam("avatar_url must be an mxc:// URI")
        return value
    if key == TIME_ZONE and not isinstance(value, str):
        raise errors.BadJson("m.tz must be a string")
    return value


def _serialized_size(profile: dict) -> int:
    return len(json.dumps(profile, ensure_ascii=False, separators=(",", ":"),
                          sort_keys=True).encode("utf-8"))


def _locked_user(user_id: str) -> User:
    """The user row, locked for this transaction on PostgreSQL (SQLite's writer lock suffices),
    so that concurrent changes cannot together push the profile over its size limit."""
    query = User.select().where(User.user_id == user_id)
    if getattr(database.obj, "for_update", False):
        query = query.for_update()
    user = query.first()
    if user is None or user.deactivated:
        raise errors.NotFound("Profile not found")
    return user


def set_field(requester, user_id: str, key: str, body: dict) -> ProfileChange:
    """Set one field of the requester's own profile."""
    _check_own(requester, user_id)
    return write_field(user_id, key, body)


def write_field(user_id: str, key: str, body: dict) -> ProfileChange:
    """Set one field of a live account's profile (its owner's request, or a server admin's)."""
    check_key(key)
    value = _value_for(key, body)
    with write_transaction():
        user = _locked_user(user_id)
        custom = _custom_fields(user_id)
        if key in USER_COLUMNS:
            changed = getattr(user, key) != value
            setattr(user, key, value)
        else:
            changed = key not in custom or custom[key] != value
            custom[key] = value
        if _serialized_size(_assemble(user, custom)) >= MAX_PROFILE_BYTES:
            raise ProfileTooLarge()
        if not changed:
            return ProfileChange(user_id, key, False)
        if key in USER_COLUMNS:
            User.update({getattr(User, key): value}).where(User.user_id == user_id).execute()
        else:
            encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            (ProfileField.insert(user=user_id, key=key, value=encoded)
             .on_conflict(conflict_target=[ProfileField.user, ProfileField.key],
                          update={ProfileField.value: encoded})
             .execute())
    return _announce(ProfileChange(user_id, key, True))


def delete_field(requester, user_id: str, key: str) -> ProfileChange:
    """Remove one field of the requester's own profile (a field that is not there is fine)."""
    _check_own(requester, user_id)
    check_key(key)
    with write_transaction():
        user = _locked_user(user_id)
        if key in USER_COLUMNS:
            changed = getattr(user, key) is not None
            if changed:
                User.update({getattr(User, key): None}).where(User.user_id == user_id).execute()
        else:
            changed = ProfileField.delete().where(
                (ProfileField.user == user_id) & (ProfileField.key == key)).execute() > 0
    return _announce(ProfileChange(user_id, key, changed))


def _announce(change: ProfileChange) -> ProfileChange:
    """After a display name or avatar change (committed): a new m.room.member event in every
    room the user has joined, and their presence again (spec: Events on Change of Profile
    Information). Each room is its own transaction, as the profile write is."""
    if change.affects_membership:
        membership.refresh_profile(change.user_id)
        presence.on_profile_changed(change.user_id)
    return change


def clear_profile(user_id: str) -> None:
    """Erase a profile (on deactivation). Call inside the caller's write transaction."""
    User.update(displayname=None, avatar_url=None).where(User.user_id == user_id).execute()
    ProfileField.delete().where(ProfileField.user == user_id).execute()


