"""Room aliases of this server, read (spec: Room aliases): checking one, resolving it to its
room. Aliases live in ``room_alias``; only aliases of this server exist here (no federation).
Creating, deleting and moving them is ``writing/alias_changes`` (deleting one may send an
m.room.canonical_alias event).
"""

from __future__ import annotations

from ... import errors, identifiers
from ...models.rooms import RoomAlias


def check_alias(alias: str, server_name: str | None = None) -> None:
    """M_INVALID_PARAM unless ``alias`` is a valid alias (of ``server_name`` when given)."""
    if not identifiers.is_valid_room_alias(alias) or any(c.isspace() for c in alias):
        raise errors.InvalidParam(f"{alias!r} is not a valid room alias")
    if server_name is not None and identifiers.server_of(alias) != server_name:
        raise errors.InvalidParam(f"Room aliases must end in :{server_name} on this server")


def resolve(alias: str) -> str:
    """The room an alias points to (404 M_NOT_FOUND for unknown or remote aliases)."""
    if not identifiers.is_valid_room_alias(alias):
        raise errors.InvalidParam(f"{alias!r} is not a valid room alias")
    room_id = RoomAlias.select(RoomAlias.room).where(RoomAlias.alias == alias).scalar()
    if room_id is None:
        raise errors.NotFound(f"Room alias {alias} not found")
    return room_id


def lookup(alias: str) -> dict:
    """GET /directory/room/{roomAlias}."""
    room_id = resolve(alias)
    return {"room_id": room_id, "servers": [identifiers.server_of(alias)]}


def resolve_room(room_id_or_alias: str) -> str:
    """A room ID, or the room an alias of this server points to (M_NOT_FOUND otherwise)."""
    if isinstance(room_id_or_alias, str) and room_id_or_alias.startswith("#"):
        return resolve(room_id_or_alias)
    if not identifiers.is_valid_room_id(room_id_or_alias):
        raise errors.InvalidParam(f"{room_id_or_alias!r} is neither a room ID nor a room alias")
    return room_id_or_alias
