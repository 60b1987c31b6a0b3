"""Reading a room's history and state at a stream position: shared by /sync, /messages and
/context.

A room's history is a line ordered by ``stream_ordering``; the state at position p is, for each
(type, state_key), the latest state event at or before p. ``current_state`` is the state at the
newest position, so the state at a recent p is current state plus the few keys changed after p.
"""

from __future__ import annotations

import json

from peewee import Case

from ...db import database, is_sqlite
from ...models.rooms import CurrentState, Event
from ..event_types import MEMBER
from ..rooms import state as room_state
from . import erased_senders, event_rows, pager, relations, serialize
from .filters import EventFilter, Filter, apply_event_fields
from .pager import Page
from .visibility import HISTORY_VISIBILITY, RoomHistory, visibility_value, without_ignored

def _matches(event_filter: EventFilter, row: Event) -> bool:
    event = {"type": row.type, "sender": row.sender}
    if event_filter.contains_url is not None:
        event["content"] = json.loads(row.json).get("content")
    return event_filter.matches(event)


def room_events(room_id: str, *, lower: int | None, upper: int, direction: str, limit: int,
                event_filter: EventFilter, visible) -> Page:
    """Up to ``limit`` events of a room with ``lower < stream_ordering <= upper`` that pass the
    filter and ``visible(rows) -> rows``, newest first ("b") or oldest first ("f")."""
    base = event_rows.select().where(Event.room == room_id)
    condition = event_filter.sql_condition(Event.type, Event.sender)
    if condition is not None:
        base = base.where(condition)
    return pager.page(base, lower=lower, upper=upper, direction=direction, limit=limit,
                      visible=lambda rows: visible([row for row in rows
                                                    if _matches(event_filter, row)]))


def newest_pages(room_ids: list[str], upper: int, limit: int, visible_of) -> dict[str, Page]:
    """``room_events(room, lower=None, upper, "b", limit, no filter, visible_of(room))`` for
    many rooms, their newest rows read in one written-out statement per chunk (room lists open
    with one-event timelines of many rooms). Rooms whose first rows are not enough (history
    visibility hid too many) are left out: the caller reads them with ``room_events``.

    PostgreSQL: one LATERAL join over the array of room IDs (planned once, where a UNION of
    50 subqueries took longer to plan than to run); SQLite: a UNION ALL per 50 rooms."""
    fetch = min(pager.BATCH, limit + 10)
    table, param = Event._meta.table_name, database.obj.param
    newest = (f"SELECT * FROM {table} WHERE room_id = {{room}} AND stream_ordering <= {param} "
              f"ORDER BY stream_ordering DESC LIMIT {param}")
    rows: dict[str, list[Event]] = {room_id: [] for room_id in room_ids}
    for chunk in [room_ids[start:start + 50] for start in range(0, len(room_ids), 50)]:
        if is_sqlite():
            sql = " UNION ALL ".join(f"SELECT r{n}.*, {event_rows.extras_sql(f'r{n}')} "
                                     f"FROM ({newest.format(room=param)}) AS r{n}"
                                     for n in range(len(chunk)))
            params = [value for room_id in chunk for value in (room_id, upper, fetch)]
        else:
            sql = (f"SELECT e.*, {event_rows.extras_sql('e')} FROM unnest({param}::text[]) "
                   f"AS r(room_id) CROSS JOIN LATERAL ({newest.format(room='r.room_id')}) AS e")
            params = [list(chunk), upper, fetch]
        for row in event_rows.fetch((sql, params)):
            rows[row.room_id].append(row)
    pages = {}
    for room_id, scanned in rows.items():
        scanned.sort(key=lambda row: row.stream_ordering, reverse=True)
        collected = visible_of(room_id)(scanned)
        exhausted = len(scanned) < fetch
        if len(collected) > limit:
            page = collected[:limit]
            boundary = page[-1].stream_ordering - 1 if page else upper
            pages[room_id] = Page(page, True, boundary)
        elif exhausted:
            pages[room_id] = Page(collected, False,
                                  scanned[-1].stream_ordering - 1 if scanned else upper)
    return pages


def page_start(page: Page, rows_oldest_first: list[Event], upper: int) -> int:
    """The position just before a backwards page's first event: its ``prev_batch``."""
    if rows_oldest_first:
        return rows_oldest_first[0].stream_ordering - 1
    return page.boundary if page.more else upper


# --- many rooms at once (initial syncs) -------------------------------------------------------

CHUNK = 200


def _chunks(items: list) -> list[list]:
    return [items[start:start + CHUNK] for start in range(0, len(items), CHUNK)]


def current_states(room_ids: list[str], types: list[str] | None = None,
                   members: dict[str, set[str]] | None = None
                   ) -> dict[str, dict[tuple[str, str], Event]]:
    """room_id -> its current state (of ``types``; None: all of it), for many rooms in one
    query per chunk. ``members`` (room_id -> user IDs) keeps only those users' member events
    (a few rooms' worth may come along): lazy-loading needs a handful of a big room's members,
    and loading all of them was most of its initial sync."""
    states: dict[str, dict[tuple[str, str], Event]] = {room_id: {} for room_id in room_ids}
    for chunk in _chunks(room_ids):
        query = (event_rows.select(children=False)
                 .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
                 .where(CurrentState.room.in_(chunk)))
        if types is not None:
            query = query.where(CurrentState.type.in_(types))
        if members is not None:
            users = sorted(set().union(*(members.get(room_id, ()) for room_id in chunk)))
            query = query.where((CurrentState.type != MEMBER) | CurrentState.state_key.in_(users))
        for row in event_rows.fetch(query):
            states[row.room_id][(row.type, row.state_key)] = row
    return states


def states_at(positions: dict[str, int], currents: dict[str, dict], now: int
              ) -> dict[str, dict[tuple[str, str], Event]]:
    """room_id -> its state at positions[room_id], from its current state (``currents``, the
    state at ``now``): each key changed after the position is put back to the event that its
    first later change replaced (``replaces_state``; none: the key did not exist yet)."""
    states = {room_id: dict(currents[room_id]) for room_id in positions}
    # Rooms sorted by position, so each chunk's lowest position is close to all of its own.
    behind = sorted((room_id for room_id, position in positions.items() if position < now),
                    key=lambda room_id: positions[room_id])
    replaced: dict[tuple[str, str, str], str | None] = {}
    for chunk in _chunks(behind):
        rows = (Event.select(Event.room_id, Event.type, Event.state_key, Event.replaces_state,
                             Event.stream_ordering)
                .where(Event.room_id.in_(chunk) & Event.state_key.is_null(False)
                       & (Event.stream_ordering > positions[chunk[0]]))
                .order_by(Event.stream_ordering).tuples())
        for room_id, event_type, state_key, replaces, position in rows:
            if position > positions[room_id]:
                replaced.setdefault((room_id, event_type, state_key), replaces)
    wanted = sorted({event_id for event_id in replaced.values() if event_id})
    earlier = {}
    for chunk in _chunks(wanted):
        earlier.update({row.event_id: row for row in event_rows.fetch(
            event_rows.select(children=False).where(Event.event_id.in_(chunk)))})
    for (room_id, event_type, state_key), event_id in replaced.items():
        state = states[room_id]
        state.pop((event_type, state_key), None)
        if event_id in earlier:
            state[(event_type, state_key)] = earlier[event_id]
    return states


def histories(room_ids: list[str], user_id: str) -> dict[str, RoomHistory]:
    """``RoomHistory.load`` for many rooms in one query per chunk (the user's memberships and
    the rooms' visibility changes together, as ``RoomHistory.load`` reads them)."""
    memberships: dict[str, list] = {room_id: [] for room_id in room_ids}
    visibilities: dict[str, list] = {room_id: [] for room_id in room_ids}
    visibility_json = Case(None, [(Event.type == HISTORY_VISIBILITY, Event.json)], None)
    for chunk in _chunks(room_ids):
        for room_id, event_type, position, membership, text in (
                Event.select(Event.room_id, Event.type, Event.stream_ordering, Event.membership,
                             visibility_json)
                .where(Event.room_id.in_(chunk)
                       & (((Event.type == MEMBER) & (Event.state_key == user_id))
                          | ((Event.type == HISTORY_VISIBILITY) & (Event.state_key == ""))))
                .order_by(Event.stream_ordering).tuples()):
            if event_type == MEMBER:
                memberships[room_id].append((position, membership or "leave"))
                continue
            visibilities[room_id].append((position, visibility_value(text)))
    return {room_id: RoomHistory(room_id, user_id, memberships[room_id], visibilities[room_id])
            for room_id in room_ids}


def members_at(room_id: str, position: int, now: int,
               user_ids: set[str]) -> dict[str, Event]:
    """user_id -> their m.room.member event in force at ``position`` (absent: never a member)."""
    if not user_ids:
        return {}
    found: dict[str, Event] = {}
    users = sorted(user_ids)
    for start in range(0, len(users), 500):
        chunk = users[start:start + 500]
        state = room_state.state_at(room_id, position, now=now, types=[MEMBER],
                                     state_keys=chunk)
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


# --- visibility and event shapes -----------------------------------------------------------------

def history(room_id: str, user_id: str) -> RoomHistory:
    return RoomHistory.load(room_id, user_id)


def visibility(history: RoomHistory, ignored: set[str], *, all_visible: bool = False,
               current_state_of: str | None = None):
    """``visible(rows) -> rows`` for ``room_events``: history visibility (skipped when the user
    was joined throughout, so sees everything), and no messages from ignored users (their
    state events still count: the room would make no sense without them).

    ``current_state_of`` (a room the user is joined to): events of its current state pass
    history visibility (as Synapse's ``always_include_ids``): a joined member may read the
    current state anyway, and a client needs, e.g., the joins it missed while away."""
    def visible(rows: list[Event]) -> list[Event]:
        if not all_visible:
            shown = {row.event_id for row in history.visible(rows)}
            hidden_state = [row.event_id for row in rows
                            if row.state_key is not None and row.event_id not in shown]
            if current_state_of is not None and hidden_state:
                shown |= {event_id for (event_id,) in CurrentState.select(CurrentState.event_id)
                          .where((CurrentState.room == current_state_of)
                                 & CurrentState.event_id.in_(hidden_state)).tuples()}
            rows = [row for row in rows if row.event_id in shown]
        return without_ignored(rows, ignored)

    return visible


def to_client(rows: list[Event], user_id: str, device_id: str | None, filter: Filter, *,
              include_room_id: bool = False, bundle: bool = True,
              histories: dict[str, RoomHistory] | None = None) -> list[dict]:
    """Events as the filter asks: client format (``services.reading.serialize``) or the stored PDU
    ("federation"), reduced to ``event_fields``."""
    if filter.event_format == "federation":
        events = erased_senders.apply_to_pdus(rows, [json.loads(row.json) for row in rows],
                                              user_id)
    else:
        # Serialized with room IDs so the bundled aggregations (edits, threads, references:
        # unsigned.m.relations, which the spec asks for in timelines) know each event's room.
        events = serialize.serialize_events(rows, user_id, device_id, include_room_id=True,
                                            histories=histories)
        if bundle:
            known = {row.event_id: bool(row.has_children) for row in rows
                     if hasattr(row, "has_children")}
            relations.bundle_aggregations(events, user_id, device_id, histories=histories,
                                          known_children=known)
        if not include_room_id:
            for event in events:
                event.pop("room_id", None)
    if filter.event_fields is not None:
        events = [apply_event_fields(event, filter.event_fields) for event in events]
    return events


def content_of(row: Event) -> dict:
    return room_state.content_of(row)
