"""The server's room list of a user (MSC4186 "Lists"): which rooms, in which order.

The list holds the rooms the user is joined to, invited to, knocked on or banned from, rooms
they were kicked from, and rooms they left since the connection's last response (so the client
sees the leave); never forgotten rooms, nor invites from ignored users. Rooms are ordered by
``bump_stamp``, newest first: for joined rooms the position of the latest event of a bumping
type (``Room.bump_stamp``, kept by the event writer, so ordering reads no history), for the
others the position of the user's membership event.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...db import database
from ...models.rooms import CurrentState, Event, Room
from ..rooms import state as room_state
from ..sync.memberships import Membership

CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    room_id: str
    membership: Membership
    bump_stamp: int

    @property
    def kind(self) -> str:
        return self.membership.membership


def _senders(event_ids: list[str]) -> dict[str, str]:
    found = {}
    for start in range(0, len(event_ids), CHUNK):
        found.update(Event.select(Event.event_id, Event.sender)
                     .where(Event.event_id.in_(event_ids[start:start + CHUNK])).tuples())
    return found


# The bump stamps of the rooms a user is joined to, through the (state_key, type, membership)
# index of current_state: one query whatever the number of rooms, and no long IN list to build
# (written out: this runs on every request of every room list).
_JOINED_BUMP_STAMPS = (
    f"SELECT r.room_id, r.bump_stamp FROM {CurrentState._meta.table_name} c "
    f"JOIN {Room._meta.table_name} r ON r.room_id = c.room_id "
    "WHERE c.state_key = {p} AND c.type = 'm.room.member' AND c.membership = 'join'")


def _bump_stamps(user_id: str) -> dict[str, int]:
    """room_id -> Room.bump_stamp of the rooms the user is joined to (in the snapshot)."""
    sql = _JOINED_BUMP_STAMPS.format(p=database.obj.param)
    return {room_id: stamp for room_id, stamp in database.obj.execute_sql(sql, (user_id,))
            if stamp is not None}


def candidates(user_id: str, memberships, left_after: int | None,
               ignored: set[str]) -> dict[str, Candidate]:
    """room_id -> Candidate, from the user's memberships at the snapshot's position.
    ``left_after``: the connection's previous stream position (rooms the user left after it
    are still listed)."""
    kept: dict[str, Membership] = {}
    check_sender = []
    for room_id, membership in memberships.items():
        kind = membership.membership
        if kind in ("join", "knock", "ban"):
            kept[room_id] = membership
        elif kind == "invite":
            kept[room_id] = membership
            if ignored:
                check_sender.append(membership.event_id)
        elif kind == "leave":
            if left_after is not None and membership.position > left_after:
                kept[room_id] = membership
            else:
                check_sender.append(membership.event_id)
    senders = _senders(sorted(check_sender)) if check_sender else {}
    for room_id, membership in memberships.items():
        sender = senders.get(membership.event_id)
        if sender is None:
            continue
        if membership.membership == "invite" and sender in ignored:
            del kept[room_id]
        elif membership.membership == "leave" and sender != user_id:
            kept[room_id] = membership  # kicked: the user may not know yet
    if any(m.membership in ("leave", "ban") for m in kept.values()):
        forgotten = room_state.forgotten_rooms(user_id)
        for room_id in [r for r, m in kept.items() if m.membership in ("leave", "ban")]:
            if room_id in forgotten:
                del kept[room_id]
    stamps = _bump_stamps(user_id) if any(m.membership == "join" for m in kept.values()) \
        else {}
    return {room_id: Candidate(room_id, membership,
                               stamps.get(room_id, membership.position)
                               if membership.membership == "join" else membership.position)
            for room_id, membership in kept.items()}


def ordered(rooms: list[Candidate]) -> list[Candidate]:
    """Newest activity first; ties by room ID, so that ranges are stable."""
    return sorted(rooms, key=lambda c: (-c.bump_stamp, c.room_id))


def in_ranges(rooms: list[Candidate], ranges) -> list[Candidate]:
    """The rooms of ``rooms`` (ordered) whose index is in one of the inclusive ranges."""
    if ranges is None:
        return list(rooms)
    picked: dict[str, Candidate] = {}
    for start, end in ranges:
        for candidate in rooms[start:end + 1]:
            picked.setdefault(candidate.room_id, candidate)
    return list(picked.values())
