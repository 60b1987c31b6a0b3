"""Building the transactions an application service is sent, from the event stream.

A service's ``AppServiceState.stream_position`` says how far the stream has been looked at.
``build_next`` reads the events after it (up to the current position, which commit order makes
safe: every position at or below it has committed), keeps those that interest the service,
and in one transaction stores them as the next ``AppServiceTransaction`` (with the next txnId)
and moves the position on. So an event is in exactly one transaction, each transaction keeps
its txnId through every retry and restart, and only one transaction per service is built
ahead of what was delivered: the backlog of a service that is down stays in the event table.
"""

from __future__ import annotations

import json

import peewee

from ... import db
from ...models.appservice import AppServiceState, AppServiceTransaction
from ...models.rooms import Event
from ..reading import serialize
from ..streams.positions import current_position
from . import ephemeral
from .interest import RoomInterest
from .registrations import AppService

# Events read per query while looking for those that interest a service.
SCAN_BATCH = 500


def state_of(service: AppService) -> AppServiceState:
    """The service's delivery state; a service seen for the first time starts from now (it is
    not sent the history from before it was registered)."""
    row = AppServiceState.get_or_none(AppServiceState.service_id == service.id)
    if row is not None:
        return row
    try:
        with db.write_transaction():
            AppServiceState.insert(service_id=service.id,
                                   stream_position=current_position()).execute()
    except peewee.IntegrityError:
        pass  # another process created it first
    return AppServiceState.get(AppServiceState.service_id == service.id)


def pending(service_id: str) -> AppServiceTransaction | None:
    """The oldest stored transaction not yet acknowledged."""
    return (AppServiceTransaction.select()
            .where(AppServiceTransaction.service_id == service_id)
            .order_by(AppServiceTransaction.txn_id).first())


def build_next(service: AppService, max_events: int, start: int) -> bool:
    """Store the next transaction of events after the service's position ``start`` (as just
    read from its state), if any interest it, and move the position on. True when the
    position moved (call again), else False."""
    upper = current_position()
    if upper <= start:
        return False
    interest = RoomInterest(service)
    chosen: list[int] = []
    upto = start
    while upto < upper and len(chosen) < max_events:
        # The few columns interest needs; whole rows only of the events chosen.
        rows = list(Event.select(Event.stream_ordering, Event.room, Event.sender, Event.type,
                                 Event.state_key)
                    .where((Event.stream_ordering > upto) & (Event.stream_ordering <= upper))
                    .order_by(Event.stream_ordering).limit(SCAN_BATCH).tuples())
        if not rows:
            upto = upper
            break
        interest.load({row[1] for row in rows})
        for position, room_id, sender, event_type, state_key in rows:
            if interest.wants(room_id, sender, event_type, state_key):
                chosen.append(position)
            upto = position
            if len(chosen) >= max_events:
                break
        if len(rows) < SCAN_BATCH and len(chosen) < max_events:
            upto = upper
    edus = ephemeral.collect(service, start, upto) if service.receive_ephemeral else []
    rows = list(Event.select().where(Event.stream_ordering.in_(chosen))
                .order_by(Event.stream_ordering)) if chosen else []
    events = serialize.serialize_events(rows, None)
    return _store(service, start, upto, events, edus)


def _store(service: AppService, start: int, upto: int, events: list[dict],
           edus: list[dict]) -> bool:
    with db.write_transaction():
        query = AppServiceState.select().where(AppServiceState.service_id == service.id)
        if not isinstance(db.database.obj, peewee.SqliteDatabase):
            query = query.for_update()  # SQLite: BEGIN IMMEDIATE serializes
        state = query.get()
        if state.stream_position != start:
            return True  # another process moved it meanwhile: look again from there
        txn_id = state.next_txn_id
        if events or edus:
            body = {"events": events}
            if service.receive_ephemeral:
                body["ephemeral"] = edus
                body["de.sorunome.msc2409.ephemeral"] = edus
            AppServiceTransaction.insert(
                service_id=service.id, txn_id=txn_id, body=json.dumps(body),
                event_count=len(events) + len(edus), created_ts=db.now_ms()).execute()
            txn_id += 1
        (AppServiceState.update(stream_position=upto, next_txn_id=txn_id)
         .where(AppServiceState.service_id == service.id).execute())
    return True
