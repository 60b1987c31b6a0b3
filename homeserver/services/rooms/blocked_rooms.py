"""Rooms a server admin blocked (Synapse's admin API: PUT /_synapse/admin/v1/rooms/{roomId}/block,
or DELETE of a room with ``block``): nobody on this server may join, be invited to or knock on
them. ``membership`` checks this in the one place each of those events is appended."""

from __future__ import annotations

from ... import clock, db, errors
from ...models.room_admin import BlockedRoom


def check_not_blocked(room_id: str) -> None:
    if BlockedRoom.select().where(BlockedRoom.room_id == room_id).exists():
        raise errors.Forbidden("This room has been blocked on this server")


def block_status(room_id: str) -> dict:
    """GET .../block: ``{"block": false}`` or ``{"block": true, "user_id": <who>}``."""
    row = BlockedRoom.get_or_none(BlockedRoom.room_id == room_id)
    if row is None:
        return {"block": False}
    return {"block": True, **({"user_id": row.user_id} if row.user_id else {})}


def set_blocked(room_id: str, admin_id: str | None, block: bool) -> dict:
    with db.write_transaction():
        if block:
            (BlockedRoom.insert(room_id=room_id, user_id=admin_id, created_ts=clock.now_ms())
             .on_conflict_ignore().execute())
        else:
            BlockedRoom.delete().where(BlockedRoom.room_id == room_id).execute()
    return {"block": block}
