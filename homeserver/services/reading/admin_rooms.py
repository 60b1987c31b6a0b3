"""Rooms as a server admin sees them, in the shapes of Synapse's admin API (GET
/_synapse/admin/v1/rooms, /rooms/{roomId}, /members, /state) and for ``homeserver rooms list``.

The list sorts and searches by Room columns the event writer keeps from the current state
(services/events.py ``_ROOM_COLUMNS``); the details of the rooms on one page are then read
from their current state. Every member is local (no federation), so ``joined_local_members``
equals ``joined_members``.
"""

from __future__ import annotations

from dataclasses import dataclass

import peewee

from ... import errors
from ...models.rooms import CurrentState, Event, Room
from ...models.users import Device
from ..event_types import MEMBER
from ..rooms import state as room_state
from ..sql_text import contains
from .serialize import serialize_events

DETAIL_TYPES = ["m.room.create", "m.room.name", "m.room.canonical_alias"]


def _state_count():
    return (CurrentState.select(peewee.fn.COUNT(CurrentState.type))
            .where(CurrentState.room == Room.room_id))


_ORDERS = {"name": Room.name, "alphabetical": Room.name, "canonical_alias": Room.canonical_alias,
           "size": Room.joined_members, "joined_members": Room.joined_members,
           "joined_local_members": Room.joined_members, "version": Room.room_version,
           "creator": Room.creator, "encryption": Room.encryption, "public": Room.is_public,
           "join_rules": Room.join_rule, "guest_access": Room.guest_access,
           "history_visibility": Room.history_visibility}
# Synapse lists these from the highest value down unless asked otherwise (dir=b).
_DESCENDING = ("size", "joined_members", "joined_local_members", "state_events", "version")


@dataclass(frozen=True)
class RoomQuery:
    offset: int = 0
    limit: int = 100
    order_by: str = "name"
    backwards: bool = False
    search_term: str | None = None
    public_rooms: bool | None = None
    empty_rooms: bool | None = None


def list_rooms(query: RoomQuery) -> dict:
    """GET /v1/rooms: ``rooms``, ``offset``, ``total_rooms``, ``next_batch`` while more remain,
    ``prev_batch`` after the first page."""
    select = Room.select(Room.room_id)
    if query.search_term:
        term = query.search_term.lower()
        select = select.where(contains(Room.name, term) | contains(Room.canonical_alias, term)
                              | (Room.room_id == query.search_term))
    if query.public_rooms is not None:
        select = select.where(Room.is_public == query.public_rooms)
    if query.empty_rooms is not None:
        select = select.where((Room.joined_members == 0) if query.empty_rooms
                              else (Room.joined_members > 0))
    total = select.count()
    if query.order_by == "state_events":
        select = select.select_extend(_state_count().alias("state_count"))
        key = peewee.SQL("state_count")
    else:
        key = _ORDERS[query.order_by]
    backwards = query.backwards != (query.order_by in _DESCENDING)
    # NULLs (rooms without a name) last either way, as Synapse does; room ID breaks ties.
    order = [key.desc(nulls="LAST") if backwards else key.asc(nulls="LAST"),
             Room.room_id.desc() if backwards else Room.room_id.asc()]
    page = [row.room_id for row in select.order_by(*order).offset(query.offset)
            .limit(query.limit)]
    out = {"rooms": describe_rooms(page), "offset": query.offset, "total_rooms": total}
    if query.offset + len(page) < total and page:
        out["next_batch"] = query.offset + len(page)
    if query.offset > 0:
        out["prev_batch"] = max(query.offset - query.limit, 0)
    return out


def describe_rooms(room_ids: list[str]) -> list[dict]:
    """The list entries of these rooms, in this order (a few queries for the whole page)."""
    if not room_ids:
        return []
    rooms = {row.room_id: row for row in Room.select().where(Room.room_id.in_(room_ids))}
    counts = dict(CurrentState.select(CurrentState.room_id, peewee.fn.COUNT(CurrentState.type))
                  .where(CurrentState.room.in_(room_ids)).group_by(CurrentState.room_id)
                  .tuples())
    state: dict[str, dict[str, dict]] = {}
    rows = (Event.select(Event.room, Event.type, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where(CurrentState.room.in_(room_ids) & CurrentState.type.in_(DETAIL_TYPES)
                   & (CurrentState.state_key == "")))
    for row in rows:
        state.setdefault(row.room_id, {})[row.type] = room_state.content_of(row)
    return [_entry(rooms[room_id], state.get(room_id, {}), counts.get(room_id, 0))
            for room_id in room_ids if room_id in rooms]


def _text(content: dict, key: str) -> str | None:
    value = content.get(key)
    return value if isinstance(value, str) else None


def _entry(room: Room, state: dict[str, dict], state_events: int) -> dict:
    create = state.get("m.room.create", {})
    room_type = create.get("type")
    return {"room_id": room.room_id, "name": _text(state.get("m.room.name", {}), "name"),
            "canonical_alias": _text(state.get("m.room.canonical_alias", {}), "alias"),
            "joined_members": room.joined_members,
            "joined_local_members": room.joined_members, "version": room.room_version,
            "creator": room.creator, "encryption": room.encryption,
            "federatable": create.get("m.federate", True) is not False,
            "public": bool(room.is_public), "join_rules": room.join_rule,
            "guest_access": room.guest_access, "history_visibility": room.history_visibility,
            "state_events": state_events,
            "room_type": room_type if isinstance(room_type, str) else None}


def room_details(room_id: str) -> dict:
    """GET /v1/rooms/{roomId}: the list entry plus topic, avatar and local devices."""
    found = describe_rooms([room_id])
    if not found:
        raise errors.NotFound("Room not found")
    topic = room_state.content_of(room_state.state_event(room_id, "m.room.topic", ""))
    avatar = room_state.content_of(room_state.state_event(room_id, "m.room.avatar", ""))
    joined = CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "join"))
    devices = Device.select().where(Device.user.in_(joined)).count()
    return {**found[0], "topic": _text(topic, "topic"), "avatar": _text(avatar, "url"),
            "joined_local_devices": devices, "forgotten": False}


def existing_room(room_id: str) -> str:
    if not Room.select().where(Room.room_id == room_id).exists():
        raise errors.NotFound("Room not found")
    return room_id


def members(room_id: str) -> dict:
    """GET /v1/rooms/{roomId}/members: the joined members."""
    joined = sorted(room_state.joined_members(existing_room(room_id)))
    return {"members": joined, "total": len(joined)}


def state(room_id: str) -> dict:
    """GET /v1/rooms/{roomId}/state: the current state, client format."""
    rows = sorted(room_state.current_state(existing_room(room_id)).values(),
                  key=lambda row: row.stream_ordering)
    return {"state": serialize_events(rows, None)}
