"""Room state for readers: current state, state at a stream position, memberships.

A room's history is a line ordered by ``stream_ordering``, so the state at position p is, for
each (type, state_key), the latest state event with stream_ordering <= p: one indexed query
(``event(room_id, type, state_key, stream_ordering)``), no state copies per event. The current
state is kept in ``current_state`` for speed (written by ``services.writing.events`` only).

Functions return ``Event`` rows; ``services.reading.serialize`` turns them into client events.
"""

from __future__ import annotations

import json

import peewee

from ... import errors
from ...models.rooms import CurrentState, Event, ForgottenRoom, Room
from ..event_types import MEMBER


# Stripped state given with invites and knocks (client-server "Stripped state").
STRIPPED_STATE_TYPES = ("m.room.create", "m.room.name", "m.room.avatar", "m.room.topic",
                        "m.room.join_rules", "m.room.canonical_alias", "m.room.encryption")


def current_state(room_id: str, *, types: list[str] | None = None,
                  state_keys: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """(type, state_key) -> the state event in force now."""
    query = (Event.select().join(CurrentState, on=(Event.event_id == CurrentState.event_id))
             .where(CurrentState.room == room_id))
    if types is not None:
        query = query.where(CurrentState.type.in_(types))
    if state_keys is not None:
        query = query.where(CurrentState.state_key.in_(state_keys))
    return {(row.type, row.state_key): row for row in query}


def state_at(room_id: str, position: int | None, *, now: int | None = None,
             types: list[str] | None = None,
             state_keys: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """(type, state_key) -> the latest state event with stream_ordering <= ``position``;
    ``position`` None is the current state.

    ``now``: the read is inside one snapshot whose current state is the state at ``now``, so
    the state at a recent ``position`` is the current state with the few keys changed after
    it put back, which beats grouping the room's whole state history."""
    if position is None or (now is not None and position >= now):
        return current_state(room_id, types=types, state_keys=state_keys)
    if now is not None:
        changed = _keys_changed_after(room_id, position, types, state_keys)
        if len(changed) <= MAX_KEYS_PUT_BACK:
            state = current_state(room_id, types=types, state_keys=state_keys)
            for key in changed:
                state.pop(key, None)
            if changed:
                before = _grouped_state_at(room_id, position,
                                           sorted({t for t, _ in changed}),
                                           sorted({k for _, k in changed}))
                state.update({key: row for key, row in before.items() if key in changed})
            return state
    return _grouped_state_at(room_id, position, types, state_keys)


# Beyond this many keys changed after the position, grouping the state history is cheaper.
MAX_KEYS_PUT_BACK = 200


def _keys_changed_after(room_id: str, position: int, types: list[str] | None,
                        state_keys: list[str] | None) -> set[tuple[str, str]]:
    changed = (Event.select(Event.type, Event.state_key)
               .where((Event.room == room_id) & Event.state_key.is_null(False)
                      & (Event.stream_ordering > position))
               .distinct().tuples())
    if types is not None:
        changed = changed.where(Event.type.in_(types))
    if state_keys is not None:
        changed = changed.where(Event.state_key.in_(state_keys))
    return set(changed)


def state_changes(room_id: str, lower: int, upper: int, *,
                  types: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """The latest event of each state key changed in (lower, upper]: the state at ``upper`` of
    the keys that changed since ``lower``."""
    if upper <= lower:
        return {}
    return _grouped_state_at(room_id, upper, types, None, after=lower)


def _grouped_state_at(room_id: str, position: int, types: list[str] | None,
                      state_keys: list[str] | None, *,
                      after: int | None = None) -> dict[tuple[str, str], Event]:
    """The latest state event per key at or before ``position`` (and after ``after``)."""
    where = ((Event.room == room_id) & Event.state_key.is_null(False)
             & (Event.stream_ordering <= position))
    if after is not None:
        where &= Event.stream_ordering > after
    if types is not None:
        where &= Event.type.in_(types)
    if state_keys is not None:
        where &= Event.state_key.in_(state_keys)
    latest = (Event.select(peewee.fn.MAX(Event.stream_ordering).alias("position"))
              .where(where).group_by(Event.type, Event.state_key))
    rows = Event.select().join(latest, on=(Event.stream_ordering == latest.c.position))
    return {(row.type, row.state_key): row for row in rows}


def state_event(room_id: str, event_type: str, state_key: str,
                position: int | None = None) -> Event | None:
    """One piece of state, now (position None) or as of ``position``."""
    if position is None:
        return (Event.select().join(CurrentState, on=(Event.event_id == CurrentState.event_id))
                .where((CurrentState.room == room_id) & (CurrentState.type == event_type)
                       & (CurrentState.state_key == state_key)).first())
    return (Event.select()
            .where((Event.room == room_id) & (Event.type == event_type)
                   & (Event.state_key == state_key) & (Event.stream_ordering <= position))
            .order_by(Event.stream_ordering.desc()).first())


def content_of(row: Event | None) -> dict:
    """The content of a stored event (an empty dict for None or a non-object content)."""
    if row is None:
        return {}
    content = json.loads(row.json).get("content")
    return content if isinstance(content, dict) else {}


def membership(room_id: str, user_id: str) -> str | None:
    """The user's current membership in the room (join, invite, leave, ban, knock) or None."""
    return (CurrentState.select(CurrentState.membership)
            .where((CurrentState.room == room_id) & (CurrentState.type == MEMBER)
                   & (CurrentState.state_key == user_id)).scalar())


def require_joined(room_id: str, user_id: str, message: str = "You are not in this room") -> None:
    """403 M_FORBIDDEN unless the user is joined to the room now: the one check of the actions
    only joined members may take (typing, receipts, joined_members, aliases, upgrade)."""
    if membership(room_id, user_id) != "join":
        raise errors.Forbidden(message)


def rooms_of_user(user_id: str, memberships: tuple[str, ...] = ("join",)) -> dict[str, str]:
    """room_id -> membership for the user's rooms with one of ``memberships`` now."""
    rows = (CurrentState.select(CurrentState.room_id, CurrentState.membership)
            .where((CurrentState.type == MEMBER) & (CurrentState.state_key == user_id)
                   & CurrentState.membership.in_(memberships)).tuples())
    return {room_id: value for room_id, value in rows}


def joined_rooms_query(user_id: str) -> peewee.ModelSelect:
    """The rooms the user is joined to now, as a subquery of room IDs."""
    return CurrentState.select(CurrentState.room_id).where(
        (CurrentState.type == MEMBER) & (CurrentState.state_key == user_id)
        & (CurrentState.membership == "join"))


def co_members_query(user_id: str) -> peewee.ModelSelect:
    """The users joined to a room ``user_id`` is joined to (``user_id`` too), as a subquery
    of user IDs."""
    return CurrentState.select(CurrentState.state_key).where(
        (CurrentState.type == MEMBER) & (CurrentState.membership == "join")
        & CurrentState.room_id.in_(joined_rooms_query(user_id)))


def joined_rooms(user_id: str) -> list[str]:
    return sorted(rooms_of_user(user_id, ("join",)))


def joined_members(room_id: str) -> list[str]:
    return [user for (user,) in CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "join")).tuples()]


def joined_member_count(room_ids: list[str]) -> dict[str, int]:
    if not room_ids:
        return {}
    rows = (CurrentState.select(CurrentState.room_id, peewee.fn.COUNT(CurrentState.state_key))
            .where(CurrentState.room.in_(room_ids) & (CurrentState.type == MEMBER)
                   & (CurrentState.membership == "join"))
            .group_by(CurrentState.room_id).tuples())
    counts = {room_id: 0 for room_id in room_ids}
    counts.update({room_id: count for room_id, count in rows})
    return counts


def is_forgotten(user_id: str, room_id: str) -> bool:
    return ForgottenRoom.select().where((ForgottenRoom.user_id == user_id)
                                        & (ForgottenRoom.room == room_id)).exists()


def forgotten_rooms(user_id: str) -> set[str]:
    """Rooms the user forgot (never shown by /sync until they join, are invited or knock)."""
    return {room_id for (room_id,) in ForgottenRoom.select(ForgottenRoom.room_id).where(
        ForgottenRoom.user_id == user_id).tuples()}


def room_version(room_id: str) -> str | None:
    return Room.select(Room.room_version).where(Room.room_id == room_id).scalar()


def stripped_state(room_id: str, extra: tuple[tuple[str, str], ...] = ()) -> list[dict]:
    """The room's current stripped state (for invite_state / knock_state): only `type`,
    `state_key`, `sender` and `content`, as the spec's stripped state schema allows."""
    rows = current_state(room_id, types=list(STRIPPED_STATE_TYPES))
    for event_type, state_key in extra:
        row = state_event(room_id, event_type, state_key)
        if row is not None:
            rows[(event_type, state_key)] = row
    out = []
    for row in sorted(rows.values(), key=lambda r: r.stream_ordering):
        pdu = json.loads(row.json)
        out.append({"type": row.type, "state_key": row.state_key, "sender": row.sender,
                    "content": pdu.get("content") if isinstance(pdu.get("content"), dict) else {}})
    return out
