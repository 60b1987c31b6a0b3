"""A user's room memberships at a stream position, with a per-process cache.

Every sync needs "which rooms is this user in?". Reading it from ``current_state`` costs one row
per room, on every sync. Instead each process keeps, per user, the answer at some position p
and brings it forward with the user's own membership events in (p, now]: one indexed range
query whose cost follows what changed, not the number of rooms. The cache holds no state of its
own (it is always checked against the database at a stream position), so several workers and
hosts can each keep one. Each entry remembers the newest event at or below its position and is
dropped if that event is gone (a database restored or recreated behind our back); entries also
expire, so anything outside the event stream (a purged room) is forgotten eventually.

Call inside the sync's read snapshot, where ``now`` is the snapshot's stream position.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from types import MappingProxyType

from ...db import run_sql
from ...models.rooms import CurrentState, Event
from ..event_types import MEMBER
from ..streams import notifier

MAX_USERS = 20_000
MAX_AGE_S = 300.0


@dataclass(frozen=True)
class Membership:
    membership: str
    position: int
    event_id: str


@dataclass(frozen=True)
class _Entry:
    position: int
    rooms: MappingProxyType
    loaded_at: float
    # The newest event at or below ``position``: (stream_ordering, event_id), or None.
    anchor: tuple[int, str] | None
    # notifier.epoch() when it was read: the stream listener's record it can be used with.
    epoch: int


# Fixed statements (db.run_sql): every /sync reads the anchor twice, and peewee's building of
# these queries cost more than running them.
_ANCHOR = (f"SELECT stream_ordering, event_id FROM {Event._meta.table_name} "
           f"WHERE stream_ordering <= ? ORDER BY stream_ordering DESC LIMIT 1")
_CHANGES = (f"SELECT room_id, membership, stream_ordering, event_id "
            f"FROM {Event._meta.table_name} WHERE state_key = ? AND type = ? "
            f"AND stream_ordering > ? AND stream_ordering <= ? ORDER BY stream_ordering")


def _anchor(position: int) -> tuple[int, str] | None:
    row = run_sql(_ANCHOR, (position,)).fetchone()
    return None if row is None else tuple(row)


_cache: OrderedDict[str, _Entry] = OrderedDict()
_lock = threading.Lock()


def _load(user_id: str) -> dict[str, Membership]:
    rows = (CurrentState.select(CurrentState.room_id, CurrentState.membership,
                                CurrentState.stream_ordering, CurrentState.event_id)
            .where((CurrentState.state_key == user_id) & (CurrentState.type == MEMBER))
            .tuples())
    return {room_id: Membership(membership, position, event_id)
            for room_id, membership, position, event_id in rows if membership is not None}


def changes_between(user_id: str, after: int, upto: int) -> list[tuple[str, Membership]]:
    """The user's membership events in (after, upto], oldest first."""
    rows = run_sql(_CHANGES, (user_id, MEMBER, after, upto))
    return [(room_id, Membership(membership or "leave", position, event_id))
            for room_id, membership, position, event_id in rows]


def cached(user_id: str) -> tuple[int, MappingProxyType] | None:
    """(position, room_id -> Membership at it) as this process last read it, without reading
    the database; None when there is none, or it is too old or was read before the stream
    listener last started over (``notifier.epoch``). Valid at any later position as long as no
    write naming the user (every membership event of theirs does) came in between."""
    with _lock:
        entry = _cache.get(user_id)
    if (entry is None or entry.epoch != notifier.epoch()
            or time.monotonic() - entry.loaded_at >= MAX_AGE_S):
        return None
    return entry.position, entry.rooms


def memberships_at(user_id: str, now: int) -> MappingProxyType:
    """room_id -> the user's Membership at ``now`` (read-only)."""
    epoch = notifier.epoch()
    with _lock:
        entry = _cache.get(user_id)
    fresh = (entry is not None and entry.position <= now
             and time.monotonic() - entry.loaded_at < MAX_AGE_S
             and _anchor(entry.position) == entry.anchor)
    if fresh and entry.position == now:
        return entry.rooms
    if fresh and entry.position < now:
        rooms = dict(entry.rooms)
        for room_id, membership in changes_between(user_id, entry.position, now):
            rooms[room_id] = membership
        loaded_at = entry.loaded_at
    else:
        # No entry, too old, from another database, or newer than this snapshot.
        rooms = _load(user_id)
        loaded_at = time.monotonic()
    result = MappingProxyType(rooms)
    anchor = _anchor(now)
    with _lock:
        current = _cache.get(user_id)
        # (An entry read before the listener started over may be of another database.)
        if current is None or current.position <= now or current.epoch != epoch:
            _cache[user_id] = _Entry(now, result, loaded_at, anchor, epoch)
            _cache.move_to_end(user_id)
            while len(_cache) > MAX_USERS:
                _cache.popitem(last=False)
    return result
