"""Read positions (spec: Receiving notifications, threaded receipts): how far a member has
read a room, per thread. ``ReadPosition`` keeps, per room, the furthest point of their
unthreaded receipts (thread_key "") and, per thread ("main" or a root event ID), of their
threaded receipts and their own events. It only moves forward and is never before the
member's join. Receipts (``ephemeral/receipts``) and the push evaluation of each sent event
(``push/actions``) move it; notification counts (``push/notifications``) count from it.
"""

from __future__ import annotations

import json

from ...db import StatementBatch, is_sqlite, run_sql
from ...identifiers import MAX_ID_LENGTH
from ...models.push import ReadPosition
from ...models.rooms import Event

MAIN_THREAD = "main"
UNTHREADED = ""
# Hops followed from an event to its thread root (the spec recommends at most 3).
MAX_THREAD_HOPS = 3

# --- threads ------------------------------------------------------------------------------------

def thread_of(content: dict) -> str:
    """The thread an event with this content belongs to: a root event ID, or "main"."""
    relates = content.get("m.relates_to") if isinstance(content, dict) else None
    if not isinstance(relates, dict) or not isinstance(relates.get("event_id"), str) \
            or len(relates["event_id"]) > MAX_ID_LENGTH:
        return MAIN_THREAD  # (no event ID is longer: that names no thread root)
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
                          stream_ordering: int, batch: StatementBatch | None = None) -> None:
    """Move the user's read position forward (never back). Call inside a write transaction
    (each sent event does: a fixed statement, db.run_sql; with ``batch``, when the caller
    runs it)."""
    template = _ADVANCE_SQLITE if is_sqlite() else _ADVANCE_POSTGRES
    params = (user_id, room_id, thread_key, stream_ordering)
    if batch is None:
        run_sql(template, params)
    else:
        batch.add(template, params)


_ADVANCE = (f"INSERT INTO {ReadPosition._meta.table_name} "
            f"(user_id, room_id, thread_key, stream_ordering) VALUES (?, ?, ?, ?) "
            f"ON CONFLICT (user_id, room_id, thread_key) DO UPDATE SET stream_ordering = "
            f"{{}}({ReadPosition._meta.table_name}.stream_ordering, excluded.stream_ordering)")
_ADVANCE_SQLITE, _ADVANCE_POSTGRES = _ADVANCE.format("MAX"), _ADVANCE.format("GREATEST")


def read_positions(user_id: str, room_id: str) -> dict[str, int]:
    return {key: so for key, so in ReadPosition.select(
        ReadPosition.thread_key, ReadPosition.stream_ordering).where(
        (ReadPosition.user_id == user_id) & (ReadPosition.room_id == room_id)).tuples()}
