"""Reporting content (spec module "Reporting Content"): users report an event, a room or a
user; reports are stored for the server's administrators (``list_reports``).

Rules: an event report needs the reporter to be joined to the room *now* and able to see the
event (history visibility), else 404 (the same answer whether the event exists or not). Room and
user reports are never restricted by the reporter's memberships; they answer 404 only for a room
or user this server does not know.
"""

from __future__ import annotations

import json

from ... import clock, errors, identifiers
from ...db import write_transaction
from ...models.reports import Report
from ...models.rooms import CurrentState, Event, Room
from ...models.users import User
from ..event_types import MEMBER
from ..policy import ratelimit
from ..policy.requester import Requester
from ..reading.visibility import can_see_event
from ..rooms import state as room_state


def _store(**fields) -> None:
    with write_transaction():
        Report.insert(received_ts=clock.now_ms(), **fields).execute()


def report_event(requester: Requester, room_id: str, event_id: str, reason: str | None, *,
                 rate_rule: dict | None) -> None:
    ratelimit.charge("report", requester, rate_rule)
    reporter = requester.user_id
    row = Event.get_or_none((Event.event_id == event_id) & (Event.room == room_id))
    if (row is None or room_state.membership(room_id, reporter) != "join"
            or not can_see_event(reporter, row)):
        raise errors.NotFound("The event was not found or you are not joined to the room")
    _store(kind="event", reporter=reporter, room_id=room_id, event_id=event_id,
           target_user_id=row.sender, reason=reason)


def report_room(requester: Requester, room_id: str, reason: str, *,
                rate_rule: dict | None) -> None:
    ratelimit.charge("report", requester, rate_rule)
    reporter = requester.user_id
    if not Room.select().where(Room.room_id == room_id).exists():
        raise errors.NotFound("The room was not found")
    _store(kind="room", reporter=reporter, room_id=room_id, reason=reason)


def report_user(requester: Requester, user_id: str, reason: str, *,
                rate_rule: dict | None) -> None:
    ratelimit.charge("report", requester, rate_rule)
    reporter = requester.user_id
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam("Not a valid user ID")
    known = (User.select().where(User.user_id == user_id).exists()
             or CurrentState.select().where((CurrentState.type == MEMBER)
                                            & (CurrentState.state_key == user_id)).exists())
    if not known:
        raise errors.NotFound("The user was not found")
    _store(kind="user", reporter=reporter, target_user_id=user_id, reason=reason)


def list_reports(*, limit: int = 100, kind: str | None = None) -> list[dict]:
    """The latest reports, newest first, for administrators."""
    query = Report.select().order_by(Report.received_ts.desc(), Report.id.desc()).limit(limit)
    if kind is not None:
        query = query.where(Report.kind == kind)
    out = []
    for row in query:
        entry = {"id": row.id, "kind": row.kind, "reporter": row.reporter,
                 "received_ts": row.received_ts, "reason": row.reason}
        for key in ("room_id", "event_id", "target_user_id"):
            if getattr(row, key) is not None:
                entry[key] = getattr(row, key)
        out.append(entry)
    return out


# --- Synapse's admin API: GET/DELETE /_synapse/admin/v1/event_reports ----------------------------

def _event_report(row: Report, room: Room | None) -> dict:
    return {"id": row.id, "received_ts": row.received_ts, "room_id": row.room_id,
            "name": room.name if room else None,
            "canonical_alias": room.canonical_alias if room else None,
            "event_id": row.event_id, "user_id": row.reporter, "sender": row.target_user_id,
            "reason": row.reason, "score": None}


def event_reports_page(*, offset: int, limit: int, backwards: bool, room_id: str | None = None,
                       user_id: str | None = None) -> tuple[list[dict], int]:
    """Event reports, oldest or newest first, filtered by room and reporter; and the total."""
    query = Report.select().where(Report.kind == "event")
    if room_id is not None:
        query = query.where(Report.room_id == room_id)
    if user_id is not None:
        query = query.where(Report.reporter == user_id)
    order = ((Report.received_ts.desc(), Report.id.desc()) if backwards
             else (Report.received_ts.asc(), Report.id.asc()))
    rows = list(query.order_by(*order).offset(offset).limit(limit))
    rooms = {room.room_id: room for room in
             Room.select().where(Room.room_id.in_({row.room_id for row in rows}))} if rows else {}
    return [_event_report(row, rooms.get(row.room_id)) for row in rows], query.count()


def _event_report_row(report_id: int) -> Report:
    row = Report.get_or_none((Report.id == report_id) & (Report.kind == "event"))
    if row is None:
        raise errors.NotFound("Event report not found")
    return row


def event_report(report_id: int) -> dict:
    """One event report with the reported event as stored (``event_json``)."""
    row = _event_report_row(report_id)
    event = Event.get_or_none(Event.event_id == row.event_id)
    return {**_event_report(row, Room.get_or_none(Room.room_id == row.room_id)),
            "event_json": json.loads(event.json) if event is not None else None}


def delete_event_report(report_id: int) -> None:
    with write_transaction():
        _event_report_row(report_id)
        Report.delete().where(Report.id == report_id).execute()
