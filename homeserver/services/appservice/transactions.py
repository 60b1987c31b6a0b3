"""Building the transactions an application service is sent, from the event stream.

A service's ``AppServiceState.stream_position`` says how far the stream has been looked at.
``prepare`` reads the events after it (up to the current position, which commit order makes
safe: every position at or below it has committed), keeps those that interest the service;
``store``, in one write transaction, stores them as the next ``AppServiceTransaction`` (with
the next txnId) and moves the position on. So an event is in exactly one transaction, each transaction keeps
its txnId through every retry and restart, and only one transaction per service is built
ahead of what was delivered: the backlog of a service that is down stays in the event table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import peewee

from ... import clock, db
from ...models.appservice import AppServiceState, AppServiceTransaction
from ...models.rooms import Event
from ..reading import serialize
from ..streams.positions import current_position
from . import encryption, ephemeral
from .interest import RoomInterest
from .registrations import AppService

# Events read per query while looking for those that interest a service: at most, at least.
SCAN_BATCH = 500
MIN_SCAN = 100


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


@dataclass
class Batch:
    """What the next transaction carries: the stream interval (start, upto] it covers and what
    of it interests the service (maybe nothing: the position moves on all the same)."""

    start: int
    upto: int
    events: list[dict]
    edus: list[dict]
    extensions: encryption.Extensions
    # Whether events interesting the service are left after ``upto`` (a backlog).
    behind: bool = False

    def body(self, service: AppService) -> dict | None:
        if not (self.events or self.edus or self.extensions):
            return None
        body = {"events": self.events}
        if service.receive_ephemeral:
            body["ephemeral"] = self.edus
            body["de.sorunome.msc2409.ephemeral"] = self.edus
        self.extensions.add_to(body)
        return body


def prepare(service: AppService, max_events: int, start: int) -> Batch | None:
    """Read the next transaction's content after the service's position ``start`` (as just
    read from its state), or None when the stream has not moved. Reads only: ``store`` writes."""
    upper = current_position()
    if upper <= start:
        return None
    interest = RoomInterest(service)
    chosen: list[int] = []
    # The users the chosen events name: the namespace users among them get key counts.
    concerned: set[str] = set()
    upto = start
    while upto < upper and len(chosen) < max_events:
        # The few columns interest needs; whole rows only of the events chosen. No more rows
        # than the transaction has room for when they all interest the service (catching up
        # on a backlog would otherwise read SCAN_BATCH rows per transaction and use a few).
        limit = min(SCAN_BATCH, max(max_events - len(chosen), MIN_SCAN))
        rows = list(Event.select(Event.stream_ordering, Event.room, Event.sender, Event.type,
                                 Event.state_key)
                    .where((Event.stream_ordering > upto) & (Event.stream_ordering <= upper))
                    .order_by(Event.stream_ordering).limit(limit).tuples())
        if not rows:
            upto = upper
            break
        interest.load({row[1] for row in rows})
        for position, room_id, sender, event_type, state_key in rows:
            if interest.wants(room_id, sender, event_type, state_key):
                chosen.append(position)
                concerned.add(sender)
                if event_type == "m.room.member" and state_key:
                    concerned.add(state_key)
            upto = position
            if len(chosen) >= max_events:
                break
        if len(rows) < limit and len(chosen) < max_events:
            upto = upper
    edus = ephemeral.collect(service, start, upto) if service.receive_ephemeral else []
    extensions = encryption.collect(service, start, upto, concerned)
    rows = list(Event.select().where(Event.stream_ordering.in_(chosen))
                .order_by(Event.stream_ordering)) if chosen else []
    return Batch(start, upto, serialize.serialize_events(rows, None), edus, extensions,
                 behind=upto < upper)


def store(service: AppService, batch: Batch, **state_changes) -> bool:
    """Store the batch as the service's next transaction (if it carries anything) and move its
    position on, with ``state_changes`` to the service's state in the same statement; only
    those if another process moved the position meanwhile. True if a transaction was stored.
    Call inside a write transaction (the sender's, which may also record the previous
    transaction's delivery)."""
    query = AppServiceState.select().where(AppServiceState.service_id == service.id)
    if not isinstance(db.database.obj, peewee.SqliteDatabase):
        query = query.for_update()  # SQLite: BEGIN IMMEDIATE serializes
    state = query.get()
    stored = False
    if state.stream_position == batch.start:
        txn_id = state.next_txn_id
        body = batch.body(service)
        if body is not None:
            AppServiceTransaction.insert(
                service_id=service.id, txn_id=txn_id, body=json.dumps(body),
                event_count=len(batch.events) + len(batch.edus) + len(batch.extensions.to_device),
                created_ts=clock.now_ms()).execute()
            encryption.acknowledge(batch.extensions)
            txn_id += 1
            stored = True
        state_changes.update(stream_position=batch.upto, next_txn_id=txn_id)
    # else another process moved it meanwhile: the next step looks again from there.
    if state_changes:
        (AppServiceState.update(**state_changes)
         .where(AppServiceState.service_id == service.id).execute())
    return stored
