"""Notification counts and GET /notifications, from the push actions stored per event.

An event notifies a user when their push rules gave it ``notify``. services/push/actions.py
stores that compactly in the event's transaction: a NotifyingEvent row holds the outcome of
every member at the time but the sender, except members with a PushAction row (whose
``notify`` then decides). A member's read position is never before their own join, so the
events of a room that lie after it were sent while they were in the room. An event is unread
while it lies after the user's read position: ``ReadPosition`` keeps, per room, the furthest
point of their unthreaded receipts (thread_key "") and, per thread ("main" or a root event
ID), of their threaded receipts and their own events. An event in thread T is read when it is
at or before the unthreaded position or T's position (spec: Receiving notifications, threaded
receipts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import peewee
from peewee import fn

from ... import errors
from ...db import run_sql
from ...identifiers import is_ascii_number
from ...models.push import NotifyingEvent, PushAction, ReadPosition
from ...models.rooms import Event
from ..ephemeral.read_positions import MAIN_THREAD, UNTHREADED, read_positions
from ..reading.serialize import serialize_events
from ..rooms.state import joined_rooms_query

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def _not_excepted(user_id: str):
    """NotifyingEvent rows whose common outcome applies to the user (no PushAction row)."""
    return ((NotifyingEvent.sender != user_id) & ~fn.EXISTS(
        PushAction.select(PushAction.id).where(
            (PushAction.user_id == user_id)
            & (PushAction.stream_ordering == NotifyingEvent.stream_ordering))))


# --- counts -------------------------------------------------------------------------------------

def _counts(notifications: int, highlights: int) -> dict:
    return {"notification_count": int(notifications or 0),
            "highlight_count": int(highlights or 0)}


def unread_counts(user_id: str, room_id: str, *, upto: int | None = None,
                  by_thread: bool = False) -> tuple[dict, dict]:
    """(unread_notifications, unread_thread_notifications) of a room for a user.

    ``by_thread``: the first counts only the main timeline and the second maps thread roots
    with unread notifications to their counts; otherwise the first counts the whole room and
    the second is empty. ``upto`` ignores events after that stream position.
    """
    return unread_counts_many(user_id, [room_id], upto=upto, by_thread=by_thread)[room_id]


def _unread_rows(user_id: str, model, rooms, upto: int | None):
    """(room_id, thread_id, count, highlights) of the rows of ``model`` (NotifyingEvent or
    PushAction) in ``rooms`` (a list or a subquery) after the user's read position of their
    thread: after the unthreaded position and after the position of the row's own thread.
    One query whatever the number of rooms."""
    room_read = ReadPosition.alias("room_read")
    thread_read = ReadPosition.alias("thread_read")
    highlight_sum = fn.SUM(peewee.Case(None, [(model.highlight, 1)], 0))
    where = (model.room_id.in_(rooms)
             & (model.stream_ordering > fn.COALESCE(room_read.stream_ordering, 0))
             & (thread_read.stream_ordering.is_null()
                | (model.stream_ordering > thread_read.stream_ordering)))
    if upto is not None:
        where &= model.stream_ordering <= upto
    if model is NotifyingEvent:
        where &= _not_excepted(user_id)
    else:
        where &= (PushAction.user_id == user_id) & (PushAction.notify == True)  # noqa: E712
    return (model.select(model.room_id, model.thread_id, fn.COUNT(model.stream_ordering),
                         highlight_sum)
            .join_from(model, room_read, peewee.JOIN.LEFT_OUTER, on=(
                (room_read.user_id == user_id) & (room_read.room_id == model.room_id)
                & (room_read.thread_key == UNTHREADED)))
            .join_from(model, thread_read, peewee.JOIN.LEFT_OUTER, on=(
                (thread_read.user_id == user_id) & (thread_read.room_id == model.room_id)
                & (thread_read.thread_key == model.thread_id)))
            .where(where)
            .group_by(model.room_id, model.thread_id)
            .tuples())


def _unread_statement(model, rooms: int, upto: bool) -> str:
    """``_unread_rows`` for a list of ``rooms`` room IDs, as a fixed statement (db.run_sql):
    every woken /sync runs it twice, and peewee composing it cost more than running it.
    Parameters: user, UNTHREADED, user, the room IDs, [upto], then the model's own (see
    ``_unread_params``)."""
    table = model._meta.table_name
    read = ReadPosition._meta.table_name
    sql = (f"SELECT m.room_id, m.thread_id, COUNT(m.stream_ordering), "
           f"SUM(CASE WHEN m.highlight THEN 1 ELSE 0 END) FROM {table} m "
           f"LEFT OUTER JOIN {read} rr ON rr.user_id = ? AND rr.room_id = m.room_id "
           f"AND rr.thread_key = ? "
           f"LEFT OUTER JOIN {read} tr ON tr.user_id = ? AND tr.room_id = m.room_id "
           f"AND tr.thread_key = m.thread_id "
           f"WHERE m.room_id IN ({', '.join('?' * rooms)}) "
           f"AND m.stream_ordering > COALESCE(rr.stream_ordering, 0) "
           f"AND (tr.stream_ordering IS NULL OR m.stream_ordering > tr.stream_ordering) ")
    if upto:
        sql += "AND m.stream_ordering <= ? "
    if model is NotifyingEvent:
        sql += (f"AND m.sender <> ? AND NOT EXISTS (SELECT 1 FROM "
                f"{PushAction._meta.table_name} p WHERE p.user_id = ? "
                f"AND p.stream_ordering = m.stream_ordering) ")
    else:
        sql += "AND m.user_id = ? AND m.notify = ? "
    return sql + "GROUP BY m.room_id, m.thread_id"


def _unread_params(user_id: str, model, rooms: list[str], upto: int | None) -> list:
    own = [user_id, user_id] if model is NotifyingEvent else [user_id, True]
    return [user_id, UNTHREADED, user_id, *rooms,
            *([upto] if upto is not None else []), *own]


def _totals(user_id: str, rooms, upto: int | None) -> dict[str, dict[str, list[int]]]:
    """room -> thread -> [notifications, highlights], in two queries. ``rooms``: a list of
    room IDs, or a subquery selecting them."""
    per_room: dict[str, dict[str, list[int]]] = {}
    for model in (NotifyingEvent, PushAction):
        if isinstance(rooms, list):
            rows = run_sql(_unread_statement(model, len(rooms), upto is not None),
                           _unread_params(user_id, model, rooms, upto)).fetchall()
        else:
            rows = _unread_rows(user_id, model, rooms, upto)
        for room_id, thread_id, count, highlights in rows:
            totals = per_room.setdefault(room_id, {}).setdefault(thread_id, [0, 0])
            totals[0] += count
            totals[1] += highlights or 0
    return per_room


def unread_counts_many(user_id: str, room_ids, *, upto: int | None = None,
                       by_thread: bool = False) -> dict[str, tuple[dict, dict]]:
    """``unread_counts`` of each room, in a fixed number of queries (not one per room)."""
    rooms = sorted(set(room_ids))
    per_room = _totals(user_id, rooms, upto) if rooms else {}
    out = {}
    for room_id in rooms:
        per_thread = per_room.get(room_id, {})
        if not by_thread:
            out[room_id] = (_counts(sum(t[0] for t in per_thread.values()),
                                    sum(t[1] for t in per_thread.values())), {})
            continue
        main = _counts(*per_thread.get(MAIN_THREAD, (0, 0)))
        threads = {thread_id: _counts(*totals) for thread_id, totals in per_thread.items()
                   if thread_id != MAIN_THREAD and totals[0]}
        out[room_id] = (main, threads)
    return out


def total_unread(user_id: str) -> int:
    """Unread notifications across all the user's joined rooms (the badge a push gateway
    shows), in a fixed number of queries whatever the number of rooms."""
    joined = joined_rooms_query(user_id)
    return sum(totals[0] for threads in _totals(user_id, joined, None).values()
               for totals in threads.values())


def is_read(user_id: str, room_id: str, thread_id: str, stream_ordering: int,
            positions: dict[str, int] | None = None) -> bool:
    if positions is None:
        positions = read_positions(user_id, room_id)
    return stream_ordering <= max(positions.get(UNTHREADED, 0), positions.get(thread_id, 0))


# --- GET /notifications -------------------------------------------------------------------------

@dataclass
class _Notification:
    stream_ordering: int
    event_id: str
    room_id: str
    thread_id: str
    actions: str
    highlight: bool
    ts: int


def _joined_spans(user_id: str) -> dict[str, list[tuple[int, int | None]]]:
    """room -> the stream ranges (from, until) during which the user was joined to it."""
    spans: dict[str, list[tuple[int, int | None]]] = {}
    open_since: dict[str, int] = {}
    for room_id, position, membership in (
            Event.select(Event.room_id, Event.stream_ordering, Event.membership)
            .where((Event.type == "m.room.member") & (Event.state_key == user_id))
            .order_by(Event.stream_ordering).tuples()):
        if membership == "join":
            open_since.setdefault(room_id, position)
        elif room_id in open_since:
            spans.setdefault(room_id, []).append((open_since.pop(room_id), position))
    for room_id, position in open_since.items():
        spans.setdefault(room_id, []).append((position, None))
    return spans


def _within(spans: list[tuple[int, int | None]], position: int) -> bool:
    return any(start < position and (end is None or position < end) for start, end in spans)


def _page(user_id: str, before: int | None, limit: int, highlight_only: bool
          ) -> list[_Notification]:
    """The user's newest ``limit`` notifications before a position: their own PushAction rows
    that notify, and the NotifyingEvents of rooms they were in at the time."""
    fields = ("stream_ordering", "event_id", "room_id", "thread_id", "actions", "highlight",
              "ts")
    own = PushAction.select(*(getattr(PushAction, f) for f in fields)).where(
        (PushAction.user_id == user_id) & (PushAction.notify == True))  # noqa: E712
    if before is not None:
        own = own.where(PushAction.stream_ordering < before)
    if highlight_only:
        own = own.where(PushAction.highlight == True)  # noqa: E712
    found = [_Notification(*row) for row in
             own.order_by(PushAction.stream_ordering.desc()).limit(limit).tuples()]
    spans = _joined_spans(user_id)
    if spans:
        cursor = before
        while True:
            shared = NotifyingEvent.select(*(getattr(NotifyingEvent, f) for f in fields)).where(
                NotifyingEvent.room_id.in_(list(spans)) & _not_excepted(user_id))
            if cursor is not None:
                shared = shared.where(NotifyingEvent.stream_ordering < cursor)
            if highlight_only:
                shared = shared.where(NotifyingEvent.highlight == True)  # noqa: E712
            batch = list(shared.order_by(NotifyingEvent.stream_ordering.desc())
                         .limit(limit * 2 + 10).tuples())
            found += [_Notification(*row) for row in batch
                      if _within(spans[row[2]], row[0])]
            if len(batch) < limit * 2 + 10 or len(found) >= 2 * limit:
                break
            cursor = batch[-1][0]
    found.sort(key=lambda n: n.stream_ordering, reverse=True)
    return found[:limit]


def list_notifications(user_id: str, device_id: str | None, *, from_token: str | None,
                       limit: int | None, only: str | None) -> dict:
    """GET /notifications: one page of the user's notifications, newest first."""
    if limit is None:
        limit = DEFAULT_LIMIT
    limit = max(0, min(limit, MAX_LIMIT))
    before = None
    if from_token is not None:
        if not is_ascii_number(from_token):
            raise errors.InvalidParam("Unknown pagination token")
        before = int(from_token)
    found = _page(user_id, before, limit, only is not None and "highlight" in only)
    events = {row.event_id: row for row in Event.select().where(
        Event.event_id.in_([n.event_id for n in found]))} if found else {}
    rows = [events[n.event_id] for n in found if n.event_id in events]
    serialized = {event["event_id"]: event for event in
                  serialize_events(rows, user_id, device_id, include_room_id=False)}
    positions: dict[str, dict[str, int]] = {}
    out = []
    for note in found:
        if note.event_id not in serialized:
            continue
        if note.room_id not in positions:
            positions[note.room_id] = read_positions(user_id, note.room_id)
        out.append({
            "actions": json.loads(note.actions),
            "event": serialized[note.event_id],
            "read": is_read(user_id, note.room_id, note.thread_id, note.stream_ordering,
                            positions[note.room_id]),
            "room_id": note.room_id,
            "ts": note.ts,
        })
    page = {"notifications": out}
    if len(found) == limit and found:
        page["next_token"] = str(found[-1].stream_ordering)
    return page
