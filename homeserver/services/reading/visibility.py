"""Who may see what in a room: history visibility (spec module "Room History Visibility").

Every read of room events goes through here: /event, /state, /members, and (in the sync
helper's code) /sync, /messages and /context.

API
---
``RoomHistory.load(room_id, user_id)``
    The user's membership timeline in the room and the room's history-visibility timeline,
    loaded with two indexed queries; then, without further queries:

    - ``history.can_see(row)``: may the user see this ``Event`` row?
    - ``history.visible(rows)``: the rows the user may see, in the given order (the shape
      ``services.reading.timeline.room_events(visible=...)`` expects).
    - ``history.membership_at(position)``: the user's membership after the events at or
      before ``position`` ("leave" when they have none): ``unsigned.membership``.
    - ``history.visibility_at(position)``: the room's history_visibility there.
    - ``history.state_position()``: the position up to which the user may read the room's
      state (current state while joined; the state when they left afterwards), or None.
    - ``history.departed_position()``: where the user's last join ended, or None.

``can_see_event(user_id, row)`` and ``filter_events(user_id, rows)``
    Convenience wrappers for one event, or rows of several rooms.

``without_ignored(rows, ignored)``
    The rows minus the messages of users the reader ignores (their state events stay: the
    room would make no sense without them); applied after history visibility by every reader.

``require_can_read_room(history, memberships)``
    The one check of "may this user read this room at all" (403 M_FORBIDDEN): anyone may
    read a world_readable room; otherwise the user's current membership must be one of
    ``memberships`` (``ANY_MEMBERSHIP``: any part in the room, even a past one). The one
    check of "is this user joined now" is ``services.rooms.state.require_joined``.

``state_position(room_id, user_id)``
    For /state and /members: the stream position whose state the user may read, ``None``
    meaning the current state; raises 403 M_FORBIDDEN when they may not read it at all.

Rules (applied with the state *at* each event; the event's own change counts):

1. history_visibility ``world_readable``: allow.
2. the user's membership was ``join``: allow.
3. ``shared`` (also the default and any unknown value) and the user joined at any point after
   the event: allow.
4. ``invited`` and the user's membership was ``invite``: allow.
5. otherwise deny.

For an m.room.history_visibility event the visibility before *or* after it counts; for the
user's own m.room.member event their membership before *or* after it counts.
"""

from __future__ import annotations

import bisect
import json
from typing import Iterable

from ... import errors
from ...db import run_sql
from ...models.rooms import Event
from ..event_types import HISTORY_VISIBILITY, MEMBER

# Who may read a room at all, beside anyone when it is world_readable (require_can_read_room).
ANY_MEMBERSHIP = None  # /messages, /context, /timestamp_to_event: any part, even a past one
NOT_BANNED = ("join", "invite", "knock", "leave")  # threads
JOINED = ("join",)  # /events peeking, /aliases

VISIBILITIES = ("world_readable", "shared", "invited", "joined")
DEFAULT_VISIBILITY = "shared"


def visibility_value(pdu_json: str) -> str:
    """The history_visibility an m.room.history_visibility event (its stored JSON) sets."""
    content = json.loads(pdu_json).get("content")
    value = content.get("history_visibility") if isinstance(content, dict) else None
    return value if value in VISIBILITIES else DEFAULT_VISIBILITY


_HISTORY = (f"SELECT type, stream_ordering, membership, CASE WHEN type = ? THEN json END "
            f"FROM {Event._meta.table_name} WHERE room_id = ? AND ((type = ? AND state_key = ?) "
            f"OR (type = ? AND state_key = '')) ORDER BY stream_ordering")


class RoomHistory:
    """One user's view of one room's history (see the module docstring)."""

    def __init__(self, room_id: str, user_id: str | None,
                 memberships: list[tuple[int, str]], visibilities: list[tuple[int, str]]):
        self.room_id = room_id
        self.user_id = user_id
        self._member_positions = [p for p, _ in memberships]
        self._memberships = [m for _, m in memberships]
        self._visibility_positions = [p for p, _ in visibilities]
        self._visibilities = [v for _, v in visibilities]

    @classmethod
    def load(cls, room_id: str, user_id: str | None) -> "RoomHistory":
        """``user_id`` None is an anonymous reader (sees world_readable history only).

        The user's memberships and the room's visibility changes come in one fixed statement
        (db.run_sql): every /messages, /context and search reads it."""
        memberships: list[tuple[int, str]] = []
        visibilities: list[tuple[int, str]] = []
        # An anonymous reader's "" never matches a member event's state_key (a user ID).
        for event_type, position, membership, text in run_sql(
                _HISTORY, (HISTORY_VISIBILITY, room_id, MEMBER, user_id or "",
                           HISTORY_VISIBILITY)):
            if event_type == MEMBER:
                memberships.append((position, membership or "leave"))
            else:
                visibilities.append((position, visibility_value(text)))
        return cls(room_id, user_id, memberships, visibilities)

    # --- timelines --------------------------------------------------------------------------

    def membership_at(self, position: int) -> str:
        index = bisect.bisect_right(self._member_positions, position)
        return self._memberships[index - 1] if index else "leave"

    def visibility_at(self, position: int) -> str:
        index = bisect.bisect_right(self._visibility_positions, position)
        return self._visibilities[index - 1] if index else DEFAULT_VISIBILITY

    def joined_after(self, position: int) -> bool:
        start = bisect.bisect_right(self._member_positions, position)
        return "join" in self._memberships[start:]

    def current_membership(self) -> str | None:
        return self._memberships[-1] if self._memberships else None

    def is_world_readable(self) -> bool:
        """Whether the room's history visibility is world_readable now."""
        return bool(self._visibilities) and self._visibilities[-1] == "world_readable"

    # --- the rules --------------------------------------------------------------------------

    def _allowed(self, visibility: str, membership: str, position: int) -> bool:
        if visibility == "world_readable" or membership == "join":
            return True
        if visibility == "shared" and self.joined_after(position):
            return True
        return visibility == "invited" and membership == "invite"

    def can_see(self, row: Event) -> bool:
        position = row.stream_ordering
        visibility = self.visibility_at(position)
        membership = self.membership_at(position)
        if self._allowed(visibility, membership, position):
            return True
        if row.type == HISTORY_VISIBILITY and row.state_key == "":
            if self._allowed(self.visibility_at(position - 1), membership, position):
                return True
        if row.type == MEMBER and row.state_key == self.user_id and self.user_id is not None:
            if self._allowed(visibility, self.membership_at(position - 1), position):
                return True
        return False

    def visible(self, rows: Iterable[Event]) -> list[Event]:
        return [row for row in rows if self.can_see(row)]

    def state_position(self) -> int | None:
        """None: the current state; a position: the state as of then (the user left)."""
        current = self.current_membership()
        if current == "join":
            return None
        if self.is_world_readable():
            return None
        departed = self.departed_position()
        if departed is None:
            raise errors.Forbidden("You are not a member of this room")
        return departed

    def departed_position(self) -> int | None:
        """Where the user stopped being joined (the event that ended their last join), or
        None when they are joined or never were: the state as it was then is theirs to read."""
        last_join = None
        for index, value in enumerate(self._memberships):
            if value == "join":
                last_join = index
        if last_join is None or last_join + 1 >= len(self._memberships):
            return None
        return self._member_positions[last_join + 1]


def can_see_event(user_id: str | None, row: Event) -> bool:
    return RoomHistory.load(row.room_id, user_id).can_see(row)


def filter_events(user_id: str | None, rows: list[Event],
                  histories: dict[str, RoomHistory] | None = None) -> list[Event]:
    """The rows (of any rooms) the user may see, in order. ``histories`` caches per room."""
    histories = {} if histories is None else histories
    out = []
    for row in rows:
        history = histories.get(row.room_id)
        if history is None:
            history = histories[row.room_id] = RoomHistory.load(row.room_id, user_id)
        if history.can_see(row):
            out.append(row)
    return out


def state_position(room_id: str, user_id: str) -> int | None:
    """See the module docstring; raises 403 M_FORBIDDEN."""
    return RoomHistory.load(room_id, user_id).state_position()


def without_ignored(rows: list, ignored: set[str]) -> list:
    """See the module docstring (rows: ``Event`` rows or tuples with state_key and sender)."""
    if not ignored:
        return rows
    return [row for row in rows if row.state_key is not None or row.sender not in ignored]


def require_can_read_room(history: RoomHistory,
                          memberships: tuple[str, ...] | None = ANY_MEMBERSHIP) -> None:
    """See the module docstring; raises 403 M_FORBIDDEN."""
    if history.is_world_readable():
        return
    current = history.current_membership()
    if current is not None and (memberships is ANY_MEMBERSHIP or current in memberships):
        return
    raise errors.Forbidden("You are not allowed to view this room")
