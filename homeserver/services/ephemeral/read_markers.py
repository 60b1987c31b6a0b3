"""Fully read markers (POST /rooms/{roomId}/read_markers): the ``m.fully_read`` room account
data, plus the m.read / m.read.private receipts the same request may carry."""

from __future__ import annotations

from ... import errors
from ...db import write_transaction
from ...models.rooms import Event
from ..users import account_data
from . import receipts

FULLY_READ = "m.fully_read"


def set_markers(user_id: str, room_id: str, body: dict) -> None:
    for key in (FULLY_READ, receipts.READ, receipts.READ_PRIVATE):
        if key in body and not isinstance(body[key], str):
            raise errors.BadJson(f"{key} must be an event ID")
    with write_transaction():
        receipts.require_joined(room_id, user_id)
        if FULLY_READ in body:
            _set_fully_read(user_id, room_id, body[FULLY_READ])
        for receipt_type in (receipts.READ, receipts.READ_PRIVATE):
            if receipt_type in body:
                receipts.set_receipt(user_id, room_id, receipt_type, body[receipt_type])


def _set_fully_read(user_id: str, room_id: str, event_id: str) -> None:
    row = receipts.event_in_room(room_id, event_id)
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
