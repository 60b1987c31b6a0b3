"""Stored events in the client format: the one place that builds what clients see.

``serialize_events(rows, user_id, device_id=None, *, include_room_id=True, histories=None)``
turns ``Event`` rows into client events (client-server "Room event format") with ``unsigned``:

- ``age``: milliseconds since ``origin_server_ts``;
- ``transaction_id``: only for the device that sent the event with that txnId;
- ``replaces_state`` (state events that replaced one) and ``prev_content`` (when the user may
  see the replaced event);
- ``membership``: the requesting user's membership at the event (after its own change);
- ``redacted_because``: the redaction event, for redacted events (their JSON is stored
  redacted already); in its own redacted form (no reason) when the reader may not see it,
  e.g. a redaction sent after they left: clients still learn the event was redacted (many
  test for ``redacted_because``), not what the redaction said.

It batches its lookups (replaced events, redactions, the user's membership timeline per room),
so callers pass whole pages. ``include_room_id=False`` gives the /sync shape (room implied).
``histories`` (room_id -> ``visibility.RoomHistory``) lets a caller that already loaded them for
visibility checks share them. ``serialize_event`` is the single-event form.
"""

from __future__ import annotations

import json

from ... import clock
from ...models.rooms import Event, Room
from ..rooms import event_format
from ..rooms.room_versions import get_room_version
from . import erased_senders
from .visibility import RoomHistory


def serialize_event(row: Event, user_id: str | None, device_id: str | None = None,
                    **kwargs) -> dict:
    return serialize_events([row], user_id, device_id, **kwargs)[0]


def serialize_events(rows: list[Event], user_id: str | None, device_id: str | None = None, *,
                     include_room_id: bool = True,
                     histories: dict[str, RoomHistory] | None = None) -> list[dict]:
    if not rows:
        return []
    now = clock.now_ms()
    histories = {} if histories is None else histories

    def history_of(room_id: str) -> RoomHistory:
        if room_id not in histories:
            histories[room_id] = RoomHistory.load(room_id, user_id)
        return histories[room_id]

    related_ids = {r.replaces_state for r in rows if r.replaces_state}
    related_ids |= {r.redacted_by for r in rows if r.redacted_by}
    related = {r.event_id: r for r in Event.select().where(Event.event_id.in_(
        sorted(related_ids)))} if related_ids else {}

    out = []
    for row in rows:
        event = _client_event(row, now, user_id, device_id)
        unsigned = event["unsigned"]
        if user_id is not None:
            unsigned["membership"] = history_of(row.room_id).membership_at(row.stream_ordering)
        if row.replaces_state:
            unsigned["replaces_state"] = row.replaces_state
            previous = related.get(row.replaces_state)
            if previous is not None and history_of(row.room_id).can_see(previous):
                content = json.loads(previous.json).get("content")
                unsigned["prev_content"] = content if isinstance(content, dict) else {}
        if row.redacted_by:
            because = related.get(row.redacted_by)
            if because is not None:
                unsigned["redacted_because"] = _client_event(
                    because, now, user_id, device_id,
                    redacted=not history_of(row.room_id).can_see(because))
        if not include_room_id:
            event.pop("room_id", None)
            unsigned.get("redacted_because", {}).pop("room_id", None)
        out.append(event)
    # Erased accounts' events are served redacted to those who joined after the erasure.
    return erased_senders.apply(rows, out, user_id)


def _client_event(row: Event, now: int, user_id: str | None, device_id: str | None, *,
                  redacted: bool = False) -> dict:
    pdu = json.loads(row.json)
    if redacted:
        version = Room.select(Room.room_version).where(Room.room_id == row.room_id).scalar()
        pdu = event_format.redact(pdu, get_room_version(version))
    event = event_format.client_event(pdu, row.event_id, row.room_id)
    unsigned: dict = {"age": max(0, now - row.origin_server_ts)}
    if (row.txn_id is not None and device_id is not None and row.sender == user_id
            and row.sender_device == device_id):
        unsigned["transaction_id"] = row.txn_id
    event["unsigned"] = unsigned
    return event
