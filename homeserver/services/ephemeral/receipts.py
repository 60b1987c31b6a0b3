"""Read receipts (POST /rooms/{roomId}/receipt/{receiptType}/{eventId}) and the fully read
marker (POST /rooms/{roomId}/read_markers: the ``m.fully_read`` room account data, plus the
m.read / m.read.private receipts the same request may carry).

One receipt per (user, room, type, thread): ``thread_key`` "" for unthreaded receipts, else
the ``thread_id`` ("main" or a thread root's event ID). ``m.read.private`` receipts are only
ever shown to their owner. Both types move the user's read position for notification counts
(which only moves forward, so a public receipt behind a private one rewinds nothing).
"""

from __future__ import annotations

from typing import Callable

from ... import clock, errors
from ...db import write_transaction
from ...models.ephemeral import Receipt
from ...models.rooms import Event
from ..rooms.state import require_joined
from ..streams.positions import next_position
from ..userdata import account_data
from . import read_positions

# Called with (user_id, room_id, receipt position, advance) to run the read position's move.
OnAdvance = Callable[[str, str, int, Callable[[], None]], None]

READ = "m.read"
READ_PRIVATE = "m.read.private"
FULLY_READ = "m.fully_read"
RECEIPT_TYPES = (READ, READ_PRIVATE)


def event_in_room(room_id: str, event_id: str) -> Event:
    row = Event.get_or_none((Event.event_id == event_id) & (Event.room == room_id))
    if row is None:
        raise errors.NotFound("Event not found in this room")
    return row


def _check_thread(row: Event, thread_id: str) -> None:
    if thread_id == row.event_id:
        return  # a thread root read in its own thread
    if read_positions.thread_of_row(row) != thread_id:
        raise errors.InvalidParam("The event is not in the thread named by thread_id")


def post_receipt(user_id: str, room_id: str, receipt_type: str, event_id: str,
                 thread_id=None, *, on_advance: OnAdvance | None = None) -> None:
    """POST /rooms/{roomId}/receipt/{receiptType}/{eventId} (body ``{"thread_id"?}``)."""
    if receipt_type == FULLY_READ:
        if thread_id is not None:
            raise errors.InvalidParam("thread_id cannot be given for m.fully_read")
        set_markers(user_id, room_id, {FULLY_READ: event_id}, on_advance=on_advance)
        return
    if receipt_type not in RECEIPT_TYPES:
        raise errors.InvalidParam(f"Unknown receipt type {receipt_type!r}")
    if thread_id is not None and (not isinstance(thread_id, str) or not thread_id):
        raise errors.InvalidParam("thread_id field must be a non-empty string")
    with write_transaction():
        set_receipt(user_id, room_id, receipt_type, event_id, thread_id, on_advance=on_advance)


def set_receipt(user_id: str, room_id: str, receipt_type: str, event_id: str,
                thread_id: str | None = None, *, on_advance: OnAdvance | None = None) -> None:
    """Store a receipt (inside the caller's write transaction) after the checks."""
    require_joined(room_id, user_id)
    row = event_in_room(room_id, event_id)
    if thread_id is not None:
        _check_thread(row, thread_id)
    thread_key = thread_id or read_positions.UNTHREADED
    if receipt_type == READ_PRIVATE:
        position = next_position(users=[user_id])
    else:
        position = next_position(rooms=[room_id])
    values = {"event_id": event_id, "event_stream_ordering": row.stream_ordering,
              "ts": clock.now_ms(), "stream_id": position}
    (Receipt.insert(room_id=room_id, user_id=user_id, receipt_type=receipt_type,
                    thread_key=thread_key, **values)
     .on_conflict(conflict_target=[Receipt.room_id, Receipt.user_id, Receipt.receipt_type,
                                   Receipt.thread_key],
                  update={getattr(Receipt, k): v for k, v in values.items()})
     .execute())

    def advance() -> None:
        read_positions.advance_read_position(user_id, room_id, thread_key, row.stream_ordering)

    if on_advance is None:
        advance()
    else:
        # e.g. push.badges.read_and_queue: a receipt that lowers the unread count also updates
        # the badge of the user's phones (passed in: push sits above ephemeral).
        on_advance(user_id, room_id, position, advance)


# --- reading (sync) -----------------------------------------------------------------------------

def _visible(row: Receipt, viewer: str) -> bool:
    return row.receipt_type != READ_PRIVATE or row.user_id == viewer


def receipt_event(rows: list[Receipt], viewer: str) -> dict | None:
    """The m.receipt event for these receipt rows as ``viewer`` may see them, or None."""
    content: dict = {}
    for row in sorted(rows, key=lambda r: r.stream_id):
        if not _visible(row, viewer):
            continue
        data = {"ts": row.ts}
        if row.thread_key:
            data["thread_id"] = row.thread_key
        content.setdefault(row.event_id, {}).setdefault(row.receipt_type, {})[row.user_id] = data
    return {"type": "m.receipt", "content": content} if content else None


def receipts_in(room_ids: list[str], viewer: str, *, since: int | None,
                upto: int) -> dict[str, dict]:
    """room_id -> the m.receipt event of the receipts that changed in (since, upto] (all of
    them when ``since`` is None), for the rooms that have any the viewer may see."""
    if not room_ids:
        return {}
    where = Receipt.room_id.in_(room_ids) & (Receipt.stream_id <= upto)
    if since is not None:
        where &= Receipt.stream_id > since
    where &= (Receipt.receipt_type != READ_PRIVATE) | (Receipt.user_id == viewer)
    by_room: dict[str, list[Receipt]] = {}
    for row in Receipt.select().where(where):
        by_room.setdefault(row.room_id, []).append(row)
    out = {}
    for room_id, rows in by_room.items():
        event = receipt_event(rows, viewer)
        if event is not None:
            out[room_id] = event
    return out


# --- the fully read marker (POST /rooms/{roomId}/read_markers) ---------------------------------

def set_markers(user_id: str, room_id: str, body: dict, *,
                on_advance: OnAdvance | None = None) -> None:
    """POST /rooms/{roomId}/read_markers: the fully read marker only moves forward."""
    for key in (FULLY_READ, READ, READ_PRIVATE):
        if key in body and not isinstance(body[key], str):
            raise errors.BadJson(f"{key} must be an event ID")
    with write_transaction():
        require_joined(room_id, user_id)
        if FULLY_READ in body:
            _set_fully_read(user_id, room_id, body[FULLY_READ])
        for receipt_type in (READ, READ_PRIVATE):
            if receipt_type in body:
                set_receipt(user_id, room_id, receipt_type, body[receipt_type],
                            on_advance=on_advance)


def _set_fully_read(user_id: str, room_id: str, event_id: str) -> None:
    row = event_in_room(room_id, event_id)
    current = account_data.get(user_id, FULLY_READ, room_id=room_id) or {}
    current_id = current.get("event_id")
    if current_id == event_id:
        return
    if isinstance(current_id, str):
        previous = (Event.select(Event.stream_ordering)
                    .where((Event.event_id == current_id) & (Event.room == room_id)).scalar())
        if previous is not None and previous > row.stream_ordering:
            return  # the marker only moves forward
    account_data.put(user_id, FULLY_READ, {"event_id": event_id}, room_id=room_id)
