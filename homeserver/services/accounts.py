"""Creating accounts and looking them up."""

from __future__ import annotations

import peewee

from .. import errors
from ..db import now_ms, write_transaction
from ..identifiers import is_valid_localpart, user_id_for
from ..models.users import User
from .passwords import hash_password

MAX_USER_ID_BYTES = 255


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


def user_exists(user_id: str) -> bool:
    return User.select().where(User.user_id == user_id).exists()


def get_user(user_id: str) -> User | None:
    return User.get_or_none(User.user_id == user_id)


def create_user(user_id: str, password: str | None, *, admin: bool = False,
                displayname: str | None = None) -> User:
    """Insert a new account (M_USER_IN_USE if taken). The display name defaults to the localpart."""
    password_hash = hash_password(password) if password is not None else None
    localpart = user_id[1:].split(":", 1)[0]
    try:
        with write_transaction():
            if user_exists(user_id):
                raise errors.UserInUse("User ID already taken")
            return User.create(user_id=user_id, password_hash=password_hash, is_admin=admin,
                               displayname=displayname if displayname is not None else localpart,
                               created_ts=now_ms())
    except peewee.IntegrityError:
        raise errors.UserInUse("User ID already taken") from None
