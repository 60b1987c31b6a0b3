"""Notification counts and GET /notifications, from the push actions stored per event.

An event notifies a user when their push rules gave it ``notify`` (services/push_actions.py
stores those as PushAction rows in the event's transaction). It is unread while it lies after
the user's read position: ``ReadPosition`` keeps, per room, the furthest point of their
unthreaded receipts (thread_key "") and, per thread ("main" or a root event ID), of their
threaded receipts and their own events. An event in thread T is read when it is at or before
the unthreaded position or T's position (spec: Receiving notifications, threaded receipts).
"""

from __future__ import annotations

import json

import peewee
from peewee import fn

from .. import errors
from ..models.push import PushAction, ReadPosition
from ..models.rooms import Event
from .serialize import serialize_events

MAIN_THREAD = "main"
UNTHREADED = ""
# Hops followed from an event to its thread root (the spec recommends at most 3).
MAX_THREAD_HOPS = 3
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


# --- threads ------------------------------------------------------------------------------------

def thread_of(content: dict) -> str:
    """The thread an event with this content belongs to: a root event ID, or "main"."""
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relates, dict) or not isinstance(relates.get("event_id"), str):
        return MAIN_THREAD
    if relates.get("rel_type") == "m.thread":
        return relates["event_id"]
    if not isinstance(relates.get("rel_type"), str):
        return MAIN_THREAD
    parent_id = relates["event_id"]
    for _ in range(MAX_THREAD_HOPS - 1):
        parent = (Event.select(Event.relates_to_id, Event.relation_type)
                  .where(Event.event_id == parent_id).first())
        if parent is None or parent.relates_to_id is None:
            return MAIN_THREAD
        if parent.relation_type == "m.thread":
            return parent.relates_to_id
        parent_id = parent.relates_to_id
    return MAIN_THREAD


def thread_of_row(row: Event) -> str:
    if row.relation_type == "m.thread" and row.relates_to_id:
        return row.relates_to_id
    if row.relates_to_id is None:
        return MAIN_THREAD
    return thread_of(json.loads(row.json).get("content") or {})


# --- read positions -----------------------------------------------------------------------------

def advance_read_position(user_id: str, room_id: str, thread_key: str,
                          stream_ordering: int) -> None:
    """Move the user's read position forward (never back). Call inside a write transaction."""
    (ReadPosition
     .insert(user_id=user_id, room_id=room_id, thread_key=thread_key,
             stream_ordering=stream_ordering)
     .on_conflict(conflict_target=[ReadPosition.user_id, ReadPosition.room_id,
                                   ReadPosition.thread_key],
                  update={ReadPosition.stream_ordering: fn.MAX(
                      ReadPosition.stream_ordering, peewee.EXCLUDED.stream_ordering)}
                  if _is_sqlite() else
                  {ReadPosition.stream_ordering: fn.GREATEST(
                      ReadPosition.stream_ordering, peewee.EXCLUDED.stream_ordering)})
     .execute())


def _is_sqlite() -> bool:
    return isinstance(ReadPosition._meta.database.obj, peewee.SqliteDatabase)


def read_positions(user_id: str, room_id: str) -> dict[str, int]:
    return {key: so for key, so in ReadPosition.select(
        ReadPosition.thread_key, ReadPosition.stream_ordering).where(
        (ReadPosition.user_id == user_id) & (ReadPosition.room_id == room_id)).tuples()}


def _unread_condition(user_id: str, room_id: str, positions: dict[str, int]):
    unthreaded = positions.get(UNTHREADED, 0)
    where = ((PushAction.user_id == user_id) & (PushAction.room_id == room_id)
             & (PushAction.stream_ordering > unthreaded))
    for key, position in positions.items():
        if key != UNTHREADED and position > unthreaded:
            where &= ~((PushAction.thread_id == key) & (PushAction.stream_ordering <= position))
    return where


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
    where = _unread_condition(user_id, room_id, read_positions(user_id, room_id))
    if upto is not None:
        where &= PushAction.stream_ordering <= upto
    highlight_sum = fn.SUM(peewee.Case(None, [(PushAction.highlight, 1)], 0))
    rows = (PushAction.select(PushAction.thread_id, fn.COUNT(PushAction.id), highlight_sum)
            .where(where).group_by(PushAction.thread_id).tuples())
    if not by_thread:
        total = [0, 0]
        for _, count, highlights in rows:
            total[0] += count
            total[1] += highlights or 0
        return _counts(*total), {}
    main, threads = _counts(0, 0), {}
    for thread_id, count, highlights in rows:
        if thread_id == MAIN_THREAD:
            main = _counts(count, highlights)
        elif count:
            threads[thread_id] = _counts(count, highlights)
    return main, threads


def total_unread(user_id: str) -> int:
    """Unread notifications across all the user's rooms (the badge a push gateway shows)."""
    rooms = [room_id for (room_id,) in PushAction.select(PushAction.room_id).where(
        PushAction.user_id == user_id).distinct().tuples()]
    return sum(unread_counts(user_id, room_id)[0]["notification_count"] for room_id in rooms)


def is_read(user_id: str, room_id: str, thread_id: str, stream_ordering: int,
            positions: dict[str, int] | None = None) -> bool:
    if positions is None:
        positions = read_positions(user_id, room_id)
    return stream_ordering <= max(positions.get(UNTHREADED, 0), positions.get(thread_id, 0))


# --- GET /notifications -------------------------------------------------------------------------

def list_notifications(user_id: str, device_id: str | None, *, from_token: str | None,
                       limit: int | None, only: str | None) -> dict:
    """GET /notifications: one page of the user's notifications, newest first."""

    if limit is None:
        limit = DEFAULT_LIMIT
    limit = max(0, min(limit, MAX_LIMIT))
    query = PushAction.select().where(PushAction.user_id == user_id)
    if from_token is not None:
        if not from_token.isdigit():
            raise errors.InvalidParam("Unknown pagination token")
        query = query.where(PushAction.stream_ordering < int(from_token))
    if only is not None and "highlight" in only:
        query = query.where(PushAction.highlight == True)  # noqa: E712 (SQL comparison)
    actions = list(query.order_by(PushAction.stream_ordering.desc()).limit(limit))
    events = {row.event_id: row for row in Event.select().where(
        Event.event_id.in_([a.event_id for a in actions]))} if actions else {}
    rows = [events[a.event_id] for a in actions if a.event_id in events]
    serialized = {event["event_id"]: event for event in
                  serialize_events(rows, user_id, device_id, include_room_id=False)}
    positions: dict[str, dict[str, int]] = {}
    out = []
    for action in actions:
        if action.event_id not in serialized:
            continue
        if action.room_id not in positions:
            positions[action.room_id] = read_positions(user_id, action.room_id)
        out.append({
            "actions": json.loads(action.actions),
            "event": serialized[action.event_id],
            "read": is_read(user_id, action.room_id, action.thread_id, action.stream_ordering,
                            positions[action.room_id]),
            "room_id": action.room_id,
            "ts": action.ts,
        })
    page = {"notifications": out}
    if len(actions) == limit and actions:
        page["next_token"] = str(actions[-1].stream_ordering)
    return page
