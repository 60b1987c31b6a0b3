"""What members read about a room: one event, its state, its members, the joined rooms, its
local aliases.

Every read applies history visibility (``services.reading.visibility``): an event the user may not
see is "not found"; /state and /members show the current state to members (and to anyone in a
world_readable room) and the state as of leaving to former members.
"""

from __future__ import annotations

from ... import errors
from ...models.rooms import Event, Room, RoomAlias
from ..event_types import MEMBER
from ..rooms import state as room_state
from . import relations
from .serialize import serialize_event, serialize_events
from .visibility import JOINED, RoomHistory, require_can_read_room


def get_event(user_id: str, device_id: str | None, room_id: str | None, event_id: str) -> dict:
    """GET /rooms/{roomId}/event/{eventId}, and GET /events/{eventId} (getOneEvent, deprecated:
    ``room_id`` None, any room): 404 for unknown and invisible events alike."""
    condition = Event.event_id == event_id
    if room_id is not None:
        condition &= Event.room == room_id
    row = Event.get_or_none(condition)
    if row is None:
        raise errors.NotFound("Event not found")
    room_id = row.room_id
    history = RoomHistory.load(room_id, user_id)
    if not history.can_see(row):
        raise errors.NotFound("Event not found")
    histories = {room_id: history}
    event = serialize_event(row, user_id, device_id, histories=histories)
    # /event is one of the endpoints that bundle aggregations (edits, threads, references).
    relations.bundle_aggregations([event], user_id, device_id, histories=histories)
    return event


def _readable_position(room_id: str, user_id: str) -> tuple[int | None, RoomHistory]:
    if not Room.select().where(Room.room_id == room_id).exists():
        raise errors.Forbidden("You are not a member of this room")
    history = RoomHistory.load(room_id, user_id)
    return history.state_position(), history


def get_state(user_id: str, device_id: str | None, room_id: str) -> list[dict]:
    """GET /rooms/{roomId}/state."""
    position, history = _readable_position(room_id, user_id)
    rows = sorted(room_state.state_at(room_id, position).values(), key=lambda r: r.stream_ordering)
    return serialize_events(rows, user_id, device_id, histories={room_id: history})


def get_state_event(user_id: str, device_id: str | None, room_id: str, event_type: str,
                    state_key: str, as_event: bool = False) -> dict:
    """GET /rooms/{roomId}/state/{eventType}/{stateKey} (``format=event`` -> as_event)."""
    position, history = _readable_position(room_id, user_id)
    row = room_state.state_event(room_id, event_type, state_key, position)
    if row is None:
        raise errors.NotFound(f"The room has no {event_type} state with key {state_key!r}")
    if as_event:
        return serialize_event(row, user_id, device_id, histories={room_id: history})
    return room_state.content_of(row)


def get_members(user_id: str, device_id: str | None, room_id: str, *, at: int | None = None,
                membership: str | None = None, not_membership: str | None = None) -> list[dict]:
    """GET /rooms/{roomId}/members: the member events, as of ``at`` (a stream position) when
    given, never later than what the user may read."""
    position, history = _readable_position(room_id, user_id)
    if at is not None:
        position = at if position is None else min(at, position)
    rows = room_state.state_at(room_id, position, types=[MEMBER]).values()

    def wanted(row) -> bool:
        if membership is None and not_membership is None:
            return True
        if membership is not None and row.membership == membership:
            return True
        return not_membership is not None and row.membership != not_membership

    chosen = sorted((r for r in rows if wanted(r)), key=lambda r: r.stream_ordering)
    return serialize_events(chosen, user_id, device_id, histories={room_id: history})


def get_joined_members(user_id: str, room_id: str) -> dict:
    """GET /rooms/{roomId}/joined_members: joined members only."""
    room_state.require_joined(room_id, user_id)
    rows = room_state.current_state(room_id, types=[MEMBER])
    joined = {}
    for (_, member), row in rows.items():
        if row.membership != "join":
            continue
        content = room_state.content_of(row)
        entry = {}
        if isinstance(content.get("displayname"), str):
            entry["display_name"] = content["displayname"]
        if isinstance(content.get("avatar_url"), str):
            entry["avatar_url"] = content["avatar_url"]
        joined[member] = entry
    return {"joined": joined}


def joined_rooms(user_id: str) -> list[str]:
    return room_state.joined_rooms(user_id)


def local_aliases(user_id: str, room_id: str) -> list[str]:
    """GET /rooms/{roomId}/aliases: members (or anyone, for world_readable rooms)."""
    if not Room.select().where(Room.room_id == room_id).exists():
        raise errors.Forbidden("You are not a member of this room")
    require_can_read_room(RoomHistory.load(room_id, user_id), JOINED)
    return [a for (a,) in RoomAlias.select(RoomAlias.alias).where(RoomAlias.room == room_id)
            .order_by(RoomAlias.created_ts, RoomAlias.alias).tuples()]
