"""Relations between events (spec: "Forming relationships between events").

Two things live here:

``relating_events(...)``
    GET /v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]: the child events of
    a parent, newest first (or oldest first with ``dir=f``), optionally following relations of
    relations (``recurse``, 3 levels), with history visibility applied.

``bundle_aggregations(events, user_id, device_id=None, *, room_id=None, ...)``
    Adds the "bundled aggregations" (``unsigned["m.relations"]``) to events already in client
    format, for the endpoints the spec lists (/messages, /context, /event, /relations, /sync
    when limited, /search, /threads). The server aggregates three relation types:

    - ``m.replace``: the most recent *valid* edit (same sender, same type, neither a state
      event, the original not itself an edit, the edit has ``m.new_content`` unless
      encrypted), as a client event; none for a redacted original. The original's content
      is left intact (spec v1.7+).
    - ``m.thread``: ``latest_event`` (serialized with its own aggregations), ``count`` and
      ``current_user_participated``.
    - ``m.reference``: ``chunk`` of ``{"event_id": ...}``.

    ``m.annotation`` is not aggregated (spec). Child events the user may not see (history
    visibility) or sent by users they ignore never count. State events get no aggregations.

Other services may import ``bundle_aggregations`` at module level (this module imports only
leaf modules at its top: serialize, visibility, account_data, filters, sync.tokens).

Relations are read from the ``relates_to_id``/``relation_type`` columns ``services.writing.events``
fills when storing an event (and clears when the child is redacted, which breaks the
relation). A relation across rooms is ignored.
"""

from __future__ import annotations

import json
from collections import namedtuple

from ... import errors
from ...models.rooms import Event
from ..streams import positions as streams
from ..userdata.account_data import ignored_users
from . import event_rows, pager, serialize
from .filters import MAX_LIMIT
from .pager import Page
from .snapshot import read_snapshot
from .stream_tokens import pagination_token, parse_pagination_token
from .visibility import RoomHistory, without_ignored

REPLACE, THREAD, REFERENCE = event_rows.AGGREGATED_RELATIONS
AGGREGATED = event_rows.AGGREGATED_RELATIONS
DEFAULT_LIMIT = 50
MAX_RECURSION_DEPTH = 3
# The most descendants a recursive request collects (relations of relations of ...).
MAX_DESCENDANTS = 5000
# IN (...) lists are sent in chunks of this many parameters.
CHUNK = 500

# What aggregations need of a child event, read as plain tuples (building peewee model rows
# is most of the cost for a long thread); RoomHistory.can_see accepts these too.
Child = namedtuple("Child", "event_id relates_to_id relation_type type state_key sender "
                            "stream_ordering origin_server_ts room_id")
_CHILD_COLUMNS = (Event.event_id, Event.relates_to_id, Event.relation_type, Event.type,
                  Event.state_key, Event.sender, Event.stream_ordering, Event.origin_server_ts,
                  Event.room_id)


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


class Reader:
    """One user's view of one room for aggregations: history visibility and ignored users."""

    def __init__(self, room_id: str, user_id: str | None, device_id: str | None = None, *,
                 history: RoomHistory | None = None, ignored: set[str] | None = None,
                 include_room_id: bool = True):
        self.room_id = room_id
        self.user_id = user_id
        self.device_id = device_id
        self.history = history or RoomHistory.load(room_id, user_id)
        self.ignored = ignored if ignored is not None else (
            ignored_users(user_id) if user_id else set())
        self.include_room_id = include_room_id

    def visible(self, rows: list) -> list:
        """Rows (Event or Child) the user may see, without those of users they ignore."""
        return without_ignored(self.history.visible(rows), self.ignored)

    def serialize(self, rows: list[Event]) -> list[dict]:
        return serialize.serialize_events(rows, self.user_id, self.device_id,
                                          include_room_id=self.include_room_id,
                                          histories={self.room_id: self.history})


# --- bundled aggregations -------------------------------------------------------------------------

def bundle_aggregations(events: list[dict], user_id: str | None, device_id: str | None = None,
                        *, room_id: str | None = None, include_room_id: bool = True,
                        histories: dict[str, RoomHistory] | None = None,
                        known_children: dict[str, bool] | None = None) -> list[dict]:
    """Add ``unsigned["m.relations"]`` in place to the events (client format) that have
    aggregated children; returns ``events``. Each event's room is its ``room_id`` or, for
    events without one (the /sync shape), ``room_id``. ``known_children``: event_id ->
    whether it has aggregated children, for events whose rows told already
    (``event_rows``: ``has_children``); the others are looked up."""
    by_room: dict[str, list[dict]] = {}
    for event in events:
        room = event.get("room_id", room_id)
        if isinstance(room, str) and isinstance(event.get("event_id"), str) \
                and "state_key" not in event:
            by_room.setdefault(room, []).append(event)
    # Most events have no children: one query over every room's events finds those that do,
    # so that rooms without any cost nothing more.
    known = known_children or {}
    with_children = {event_id for event_id, has in known.items() if has}
    with_children |= _with_children([e["event_id"] for evs in by_room.values() for e in evs
                                     if e["event_id"] not in known])
    by_room = {room: kept for room, room_events in by_room.items()
               if (kept := [e for e in room_events if e["event_id"] in with_children])}
    histories = {} if histories is None else histories
    ignored = ignored_users(user_id) if user_id and by_room else set()
    readers = {}
    for room in by_room:
        history = histories.get(room)
        if history is None:
            history = histories[room] = RoomHistory.load(room, user_id)
        readers[room] = Reader(room, user_id, device_id, history=history, ignored=ignored,
                               include_room_id=include_room_id)
    # Every room's parents together: the statements do not grow with the number of rooms.
    found = aggregations_of_rooms(readers, {room: [e["event_id"] for e in room_events]
                                            for room, room_events in by_room.items()})
    for room_events in by_room.values():
        for event in room_events:
            relations = found.get(event["event_id"])
            if relations:
                unsigned = event.setdefault("unsigned", {})
                unsigned["m.relations"] = {**unsigned.get("m.relations", {}), **relations}
    return events


def _with_children(event_ids: list[str]) -> set[str]:
    """Those of ``event_ids`` that some event relates to with an aggregated relation type."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(event_ids))):
        found.update(parent for (parent,) in Event.select(Event.relates_to_id).where(
            Event.relates_to_id.in_(chunk) & Event.relation_type.in_(list(AGGREGATED)))
            .distinct().tuples())
    return found


def aggregations(reader: Reader, parent_ids: list[str],
                 kinds: tuple[str, ...] = AGGREGATED) -> dict[str, dict]:
    """event_id -> its ``m.relations`` object, for those of ``parent_ids`` that have any."""
    return aggregations_of_rooms({reader.room_id: reader}, {reader.room_id: parent_ids}, kinds)


def aggregations_of_rooms(readers: dict[str, Reader], parent_ids: dict[str, list[str]],
                          kinds: tuple[str, ...] = AGGREGATED) -> dict[str, dict]:
    """``aggregations`` of the parents of several rooms (room_id -> event IDs), each room
    seen through its ``Reader`` (one user's), in the same few statements."""
    room_of = {event_id: room for room, ids in parent_ids.items() for event_id in ids}
    parents: dict[str, Event] = {}
    for chunk in _chunks(sorted(room_of)):
        for row in Event.select(Event.event_id, Event.room_id, Event.type, Event.sender,
                                Event.state_key, Event.relation_type, Event.redacted_by).where(
                Event.event_id.in_(chunk) & Event.state_key.is_null()):
            if room_of[row.event_id] == row.room_id:
                parents[row.event_id] = row
    if not parents:
        return {}
    by_room: dict[str, list[Child]] = {}
    for chunk in _chunks(sorted(parents)):
        for values in Event.select(*_CHILD_COLUMNS).where(
                Event.relates_to_id.in_(chunk) & Event.relation_type.in_(list(kinds))
        ).order_by(Event.stream_ordering).tuples():
            child = Child(*values)
            # A relation across rooms is ignored.
            if child.room_id == parents[child.relates_to_id].room_id:
                by_room.setdefault(child.room_id, []).append(child)
    children = sorted((child for room, room_children in by_room.items()
                       for child in readers[room].visible(room_children)),
                      key=lambda child: child.stream_ordering)
    if not children:
        return {}
    by_parent: dict[str, dict[str, list[Child]]] = {}
    for child in children:
        by_parent.setdefault(child.relates_to_id, {}).setdefault(
            child.relation_type, []).append(child)

    result: dict[str, dict] = {}
    edits = _latest_edits(parents, by_parent) if REPLACE in kinds else {}
    threads = {parent_id: kinds_of[THREAD] for parent_id, kinds_of in by_parent.items()
               if THREAD in kinds_of}
    latest_ids = {parent_id: rows[-1].event_id for parent_id, rows in threads.items()}
    wanted = sorted(set(edits.values()) | set(latest_ids.values()))
    full = {}
    for chunk in _chunks(wanted):
        full.update({row.event_id: row for row in event_rows.fetch(
            event_rows.select(children=False).where(Event.event_id.in_(chunk)))})
    serialized = {}
    ordered = [full[event_id] for event_id in wanted if event_id in full]
    any_reader = next(iter(readers.values()))
    histories = {room: reader.history for room, reader in readers.items()}
    for row, event in zip(ordered, serialize.serialize_events(
            ordered, any_reader.user_id, any_reader.device_id,
            include_room_id=any_reader.include_room_id, histories=histories)):
        serialized[row.event_id] = event
    # The latest event of a thread carries its own aggregations (threads do not nest).
    latest_rows = [full[i] for i in latest_ids.values() if i in serialized]
    if latest_rows:
        nested_ids: dict[str, list[str]] = {}
        for row in latest_rows:
            nested_ids.setdefault(row.room_id, []).append(row.event_id)
        nested = aggregations_of_rooms(readers, nested_ids, kinds=(REPLACE, REFERENCE))
        for row in latest_rows:
            if nested.get(row.event_id):
                serialized[row.event_id].setdefault("unsigned", {})["m.relations"] = \
                    nested[row.event_id]

    for parent_id, kinds_of in by_parent.items():
        relations: dict = {}
        if parent_id in edits and edits[parent_id] in serialized:
            relations[REPLACE] = serialized[edits[parent_id]]
        if parent_id in threads and latest_ids[parent_id] in serialized:
            rows = threads[parent_id]
            user_id = readers[parents[parent_id].room_id].user_id
            participated = user_id is not None and (
                parents[parent_id].sender == user_id
                or any(row.sender == user_id for row in rows))
            relations[THREAD] = {"latest_event": serialized[latest_ids[parent_id]],
                                 "count": len(rows),
                                 "current_user_participated": participated}
        if REFERENCE in kinds_of:
            relations[REFERENCE] = {"chunk": [{"event_id": row.event_id}
                                              for row in kinds_of[REFERENCE]]}
        if relations:
            result[parent_id] = relations
    return result


def _latest_edits(parents: dict[str, Event],
                  by_parent: dict[str, dict[str, list[Child]]]) -> dict[str, str]:
    """parent event_id -> the event_id of its most recent valid replacement."""
    candidates: dict[str, list[Child]] = {}
    for parent_id, kinds_of in by_parent.items():
        parent = parents[parent_id]
        if REPLACE not in kinds_of or parent.redacted_by is not None \
                or parent.relation_type == REPLACE:
            continue
        valid = [row for row in kinds_of[REPLACE]
                 if row.sender == parent.sender and row.type == parent.type
                 and row.state_key is None]
        if valid:
            # Most recent: the highest origin_server_ts, then the largest event_id.
            valid.sort(key=lambda row: (row.origin_server_ts, row.event_id), reverse=True)
            candidates[parent_id] = valid
    if not candidates:
        return {}
    # m.new_content can only be checked in cleartext; an encrypted edit carries it inside.
    to_check = sorted({row.event_id for rows in candidates.values() for row in rows
                       if row.type != "m.room.encrypted"})
    has_new_content = set()
    for chunk in _chunks(to_check):
        for event_id, text in Event.select(Event.event_id, Event.json).where(
                Event.event_id.in_(chunk)).tuples():
            content = json.loads(text).get("content")
            if isinstance(content, dict) and isinstance(content.get("m.new_content"), dict):
                has_new_content.add(event_id)
    chosen = {}
    for parent_id, rows in candidates.items():
        for row in rows:
            if row.type == "m.room.encrypted" or row.event_id in has_new_content:
                chosen[parent_id] = row.event_id
                break
    return chosen


# --- GET /relations -----------------------------------------------------------------------------

def relating_events(user_id: str, device_id: str | None, room_id: str, event_id: str, *,
                    rel_type: str | None = None, event_type: str | None = None,
                    from_token: str | None = None, to_token: str | None = None,
                    limit: int | None = None, direction: str = "b",
                    recurse: bool | None = None) -> dict:
    """GET /v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]."""
    limit = max(1, min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT))
    with read_snapshot():
        current = streams.current_position()
        reader = Reader(room_id, user_id, device_id)
        parent = Event.get_or_none((Event.event_id == event_id) & (Event.room == room_id))
        if parent is None or not reader.history.can_see(parent):
            raise errors.NotFound("Event not found")
        start = parse_pagination_token(from_token, current, "from") if from_token else None
        end = parse_pagination_token(to_token, current, "to") if to_token else None
        if direction == "b":
            lower, upper = end, current if start is None else start
        else:
            lower, upper = start, current if end is None else min(end, current)

        condition = Event.room == room_id
        if rel_type is not None:
            condition &= Event.relation_type == rel_type
        else:
            condition &= Event.relation_type.is_null(False)
        if event_type is not None:
            condition &= Event.type == event_type
        depth = None
        if recurse:
            related_ids, depth = _descendants(event_id, condition)
            where = Event.event_id.in_(related_ids) if related_ids else None
        else:
            where = condition & (Event.relates_to_id == event_id)
        found = Page([], False, upper) if where is None else pager.page(
            Event.select().where(where), lower=lower, upper=upper, direction=direction,
            limit=limit, visible=reader.visible)
        chunk = reader.serialize(found.rows)
        bundle_aggregations(chunk, user_id, device_id,
                            histories={room_id: reader.history})
    body: dict = {"chunk": chunk}
    if found.more:
        body["next_batch"] = pagination_token(found.boundary)
    if from_token:
        body["prev_batch"] = from_token
    if recurse is not None:
        body["recursion_depth"] = depth if recurse else 0
    return body


def _descendants(event_id: str, condition) -> tuple[list[str], int]:
    """The events relating to ``event_id`` directly or through up to MAX_RECURSION_DEPTH
    relations, every one of them (intermediate ones too) matching ``condition``; and the
    depth reached (the deepest level that had events, at least 1)."""
    found: list[str] = []
    seen = {event_id}
    frontier = [event_id]
    depth = 1
    for level in range(1, MAX_RECURSION_DEPTH + 1):
        next_frontier = []
        for chunk in _chunks(frontier):
            for (child_id,) in Event.select(Event.event_id).where(
                    condition & Event.relates_to_id.in_(chunk)).tuples():
                if child_id not in seen:
                    seen.add(child_id)
                    next_frontier.append(child_id)
        if not next_frontier:
            break
        depth = level
        found.extend(next_frontier)
        if len(found) >= MAX_DESCENDANTS:
            found = found[:MAX_DESCENDANTS]
            break
        frontier = next_frontier
    return found, depth


