"""Reading a room's history and state at a stream position: shared by /sync, /messages and
/context.

A room's history is a line ordered by ``stream_ordering``; the state at position p is, for each
(type, state_key), the latest state event at or before p. ``current_state`` is the state at the
newest position, so the state at a recent p is current state plus the few keys changed after p.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import peewee

from ...models.rooms import CurrentState, Event
from ..filters import EventFilter

MEMBER = "m.room.member"
# Rows fetched per query while filling a page, and the most rows one page may look at (a
# filter or visibility that hides almost everything must not make a request scan a whole room).
BATCH = 100
SCAN_BUDGET = 5000


@dataclass
class Page:
    rows: list[Event]   # in the order scanned (newest first for "b", oldest first for "f")
    more: bool          # matching events may remain beyond the page
    boundary: int       # the token position to continue from


def _matches(event_filter: EventFilter, row: Event) -> bool:
    event = {"type": row.type, "sender": row.sender}
    if event_filter.contains_url is not None:
        event["content"] = json.loads(row.json).get("content")
    return event_filter.matches(event)


def room_events(room_id: str, *, lower: int | None, upper: int, direction: str, limit: int,
                event_filter: EventFilter, visible) -> Page:
    """Up to ``limit`` events of a room with ``lower < stream_ordering <= upper`` that pass the
    filter and ``visible(rows) -> rows``, newest first ("b") or oldest first ("f")."""
    base = Event.select().where(Event.room == room_id)
    condition = event_filter.sql_condition(Event.type, Event.sender)
    if condition is not None:
        base = base.where(condition)
    backwards = direction == "b"
    low, high = lower, upper
    collected: list[Event] = []
    scanned = 0
    exhausted = False
    while len(collected) <= limit and scanned < SCAN_BUDGET:
        query = base.where(Event.stream_ordering <= high)
        if low is not None:
            query = query.where(Event.stream_ordering > low)
        order = Event.stream_ordering.desc() if backwards else Event.stream_ordering.asc()
        rows = list(query.order_by(order).limit(BATCH))
        scanned += len(rows)
        if rows:
            if backwards:
                high = rows[-1].stream_ordering - 1
            else:
                low = rows[-1].stream_ordering
        collected.extend(visible([row for row in rows if _matches(event_filter, row)]))
        if len(rows) < BATCH:
            exhausted = True
            break
    more = len(collected) > limit or not exhausted
    page = collected[:limit]
    if len(collected) > limit and page:
        last = page[-1].stream_ordering
        boundary = last - 1 if backwards else last
    elif len(collected) > limit:
        boundary = upper if backwards else (lower or 0)
    else:
        boundary = high if backwards else (low if low is not None else 0)
    return Page(page, more, boundary)


# --- state ---------------------------------------------------------------------------------------

def _latest_state(room_id: str, upto: int, *, lower: int | None = None,
                  types: list[str] | None = None, keys: list[tuple[str, str]] | None = None,
                  state_keys: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """(type, state_key) -> latest state event with lower < stream_ordering <= upto."""
    where = ((Event.room == room_id) & Event.state_key.is_null(False)
             & (Event.stream_ordering <= upto))
    if lower is not None:
        where &= Event.stream_ordering > lower
    if types is not None:
        where &= Event.type.in_(types)
    if state_keys is not None:
        where &= Event.state_key.in_(state_keys)
    if keys is not None:
        where &= Event.type.in_(sorted({t for t, _ in keys}))
        where &= Event.state_key.in_(sorted({k for _, k in keys}))
    latest = (Event.select(peewee.fn.MAX(Event.stream_ordering).alias("position"))
              .where(where).group_by(Event.type, Event.state_key))
    rows = Event.select().join(latest, on=(Event.stream_ordering == latest.c.position))
    result = {(row.type, row.state_key): row for row in rows}
    if keys is not None:
        wanted = set(keys)
        result = {key: row for key, row in result.items() if key in wanted}
    return result


def state_changes(room_id: str, lower: int, upper: int, *,
                  types: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """The latest event of each state key changed in (lower, upper]."""
    if upper <= lower:
        return {}
    return _latest_state(room_id, upper, lower=lower, types=types)


def current_state(room_id: str, *, types: list[str] | None = None,
                  state_keys: list[str] | None = None) -> dict[tuple[str, str], Event]:
    query = (Event.select().join(CurrentState, on=(Event.event_id == CurrentState.event_id))
             .where(CurrentState.room == room_id))
    if types is not None:
        query = query.where(CurrentState.type.in_(types))
    if state_keys is not None:
        query = query.where(CurrentState.state_key.in_(state_keys))
    return {(row.type, row.state_key): row for row in query}


def state_at(room_id: str, position: int, now: int, *, types: list[str] | None = None,
             state_keys: list[str] | None = None) -> dict[tuple[str, str], Event]:
    """The state of a room at ``position`` (call inside the snapshot where current state is
    the state at ``now``)."""
    if position >= now:
        return current_state(room_id, types=types, state_keys=state_keys)
    changed = (Event.select(Event.type, Event.state_key)
               .where((Event.room == room_id) & Event.state_key.is_null(False)
                      & (Event.stream_ordering > position))
               .distinct().tuples())
    if types is not None:
        changed = changed.where(Event.type.in_(types))
    if state_keys is not None:
        changed = changed.where(Event.state_key.in_(state_keys))
    changed_keys = list(changed)
    if len(changed_keys) > 200:
        # Far in the past: one grouped query beats patching current state key by key.
        return _latest_state(room_id, position, types=types, state_keys=state_keys)
    state = current_state(room_id, types=types, state_keys=state_keys)
    for key in changed_keys:
        state.pop(key, None)
    if changed_keys:
        state.update(_latest_state(room_id, position, keys=changed_keys))
    return state


def members_at(room_id: str, position: int, now: int,
               user_ids: set[str]) -> dict[str, Event]:
    """user_id -> their m.room.member event in force at ``position`` (absent: never a member)."""
    if not user_ids:
        return {}
    found: dict[str, Event] = {}
    users = sorted(user_ids)
    for start in range(0, len(users), 500):
        chunk = users[start:start + 500]
        state = state_at(room_id, position, now, types=[MEMBER], state_keys=chunk)
        found.update({state_key: row for (_, state_key), row in state.items()})
    return found


# --- which rooms changed -------------------------------------------------------------------------

def rooms_with_events(room_ids: list[str], since: int, now: int, scan_limit: int) -> set[str]:
    """Those of ``room_ids`` with an event in (since, now]. Cost follows what changed: a short
    range is scanned by position (one index range, whatever the number of rooms); a long one
    (a client back after a while) probes each room's (room, position) index."""
    if not room_ids or now <= since:
        return set()
    wanted = set(room_ids)
    if now - since <= scan_limit:
        rows = (Event.select(Event.room_id)
                .where((Event.stream_ordering > since) & (Event.stream_ordering <= now))
                .distinct().tuples())
        return {room_id for room_id, in rows} & wanted
    found = set()
    rooms = sorted(wanted)
    for start in range(0, len(rooms), 500):
        rows = (Event.select(Event.room_id)
                .where(Event.room_id.in_(rooms[start:start + 500])
                       & (Event.stream_ordering > since) & (Event.stream_ordering <= now))
                .distinct().tuples())
        found.update(room_id for room_id, in rows)
    return found


# --- event shapes --------------------------------------------------------------------------------

def content_of(row: Event) -> dict:
    content = json.loads(row.json).get("content")
    return content if isinstance(content, dict) else {}


def stripped(row: Event) -> dict:
    """A stripped state event (client-server "Stripped state"): sender, type, state_key, content."""
    return {"sender": row.sender, "type": row.type, "state_key": row.state_key,
            "content": content_of(row)}


def ignored_users(user_id: str) -> set[str]:
    """Users whose messages ``user_id`` ignores (m.ignored_user_list, kept by account data)."""
    from .. import account_data

    return account_data.ignored_users(user_id)
