"""Changes to room aliases of this server (spec: Room aliases): create, delete, move on upgrade.

Creating one needs membership of the room; deleting one needs to be its creator, a server
admin, or a member allowed to send m.room.canonical_alias. Deleting an alias also removes it
from the room's m.room.canonical_alias event when the deleter may change that event (the
spec's recommendation; the alias is deleted either way). Reads are ``rooms/aliases``.
"""

from __future__ import annotations

import json

import peewee

from ... import clock, errors, identifiers
from ...db import database, write_transaction
from ...models.rooms import Room, RoomAlias
from ..rooms import power_levels
from ..rooms import state as room_state
from ..rooms.aliases import check_alias
from ..rooms.room_versions import get_room_version
from .events import send_state_event


class AliasInUse(errors.MatrixError):
    """PUT /directory/room answers 409 for a taken alias (directory.yaml)."""
    errcode, status = "M_ROOM_IN_USE", 409
    default_message = "Room alias already taken"


def insert_alias(alias: str, room_id: str, creator: str, *, status: int = 409) -> None:
    """Map ``alias`` to the room (call inside a write transaction); taken -> M_ROOM_IN_USE."""
    taken = AliasInUse(f"Room alias {alias} already exists", status=status)
    if RoomAlias.select().where(RoomAlias.alias == alias).exists():
        raise taken
    try:
        with database.atomic():  # a savepoint: a concurrent claim must not abort the caller
            RoomAlias.insert(alias=alias, room=room_id, creator=creator,
                             created_ts=clock.now_ms()).execute()
    except peewee.IntegrityError:
        raise taken from None


def create(user_id: str, alias: str, room_id: str, *, need_membership: bool = True) -> None:
    """PUT /directory/room/{roomAlias}; ``need_membership=False`` for an application
    service's alias of its namespace."""
    check_alias(alias, identifiers.server_of(user_id))
    if not isinstance(room_id, str) or not identifiers.is_valid_room_id(room_id):
        raise errors.InvalidParam("room_id must be a room ID")
    with write_transaction():
        if not Room.select().where(Room.room_id == room_id).exists():
            raise errors.NotFound("Room not found")
        if need_membership:
            room_state.require_joined(room_id, user_id,
                                      "You must be in the room to give it an alias")
        insert_alias(alias, room_id, user_id)


def delete(user_id: str, alias: str, *, is_admin: bool = False) -> str:
    """DELETE /directory/room/{roomAlias}; returns the room it pointed to."""
    check_alias(alias)
    with write_transaction():
        row = RoomAlias.get_or_none(RoomAlias.alias == alias)
        if row is None:
            raise errors.NotFound(f"Room alias {alias} not found")
        room_id = row.room_id
        if not (row.creator == user_id or is_admin or _may_set_canonical_alias(room_id, user_id)):
            raise errors.Forbidden("Only the alias's creator or a room moderator may delete it")
        row.delete_instance()
    _remove_from_canonical_alias(user_id, room_id, alias)
    return room_id


def _may_set_canonical_alias(room_id: str, user_id: str) -> bool:
    if room_state.membership(room_id, user_id) != "join":
        return False
    rows = room_state.current_state(room_id, types=["m.room.create", "m.room.power_levels"])
    auth_state = {key: json.loads(row.json) for key, row in rows.items()}
    version = get_room_version(room_state.room_version(room_id))
    return power_levels.user_level(auth_state, user_id, version) >= power_levels.event_level(
        auth_state, "m.room.canonical_alias", True, version)


def _remove_from_canonical_alias(user_id: str, room_id: str, alias: str) -> None:
    content = room_state.content_of(room_state.state_event(room_id, "m.room.canonical_alias", ""))
    alt = content.get("alt_aliases")
    if content.get("alias") != alias and not (isinstance(alt, list) and alias in alt):
        return
    new = dict(content)
    if new.get("alias") == alias:
        del new["alias"]
    if isinstance(alt, list):
        new["alt_aliases"] = [a for a in alt if a != alias]
        if not new["alt_aliases"]:
            del new["alt_aliases"]
    try:
        send_state_event(user_id, room_id, "m.room.canonical_alias", "", new)
    except errors.MatrixError:
        pass  # the alias is deleted; updating the event was only a courtesy


def move_aliases(old_room_id: str, new_room_id: str) -> list[str]:
    """Point every local alias of the old room at the new one (room upgrades)."""
    moved = [a for (a,) in RoomAlias.select(RoomAlias.alias).where(
        RoomAlias.room == old_room_id).tuples()]
    RoomAlias.update(room=new_room_id).where(RoomAlias.room == old_room_id).execute()
    return moved
