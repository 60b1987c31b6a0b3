"""Third-party lookups (spec module "Third-party Networks").

Third-party networks are provided by application services (bridges); this server has none,
so it supports no protocol: the protocol list is empty, every protocol-specific lookup finds
nothing (404 M_NOT_FOUND), and reverse lookups find no third-party location or user for an
alias or user that exists (an empty list) and 404 M_NOT_FOUND for one that does not.
"""

from __future__ import annotations

from ... import errors, identifiers
from ...models.rooms import RoomAlias
from ...models.users import User


def protocols() -> dict:
    return {}


def protocol(name: str) -> dict:
    raise errors.NotFound(f"Unknown protocol {name!r}: this server bridges no networks")


def locations_for_protocol(name: str) -> list:
    raise errors.NotFound(f"No portal rooms: this server bridges no protocol {name!r}")


def users_for_protocol(name: str) -> list:
    raise errors.NotFound(f"No users: this server bridges no protocol {name!r}")


def locations_for_alias(alias: str) -> list:
    if not identifiers.is_valid_room_alias(alias):
        raise errors.InvalidParam(f"{alias!r} is not a room alias")
    if not RoomAlias.select().where(RoomAlias.alias == alias).exists():
        raise errors.NotFound("Room alias not found")
    return []


def users_for_user_id(user_id: str) -> list:
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam(f"{user_id!r} is not a user ID")
    user = User.get_or_none(User.user_id == user_id)
    if user is None or user.deactivated:
        raise errors.NotFound("User not found")
    return []
