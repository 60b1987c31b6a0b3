"""Sending transactions to application services: one thread per service per process (a
``background.Worker`` each, started by create_app's first request through services/workers.py),
of which one at a time holds the service's lease in the database
and sends (gunicorn's workers would otherwise send the same transaction in parallel).

A holder sends the oldest stored transaction (transactions.py builds them) until the service
answers 2xx, then deletes it and stores the next in the same write; so transactions go out in txnId order, one
at a time, and a transaction is sent again with the same txnId and body after a failure, a
restart or a kill -9 (spec: the service answers a txnId it already processed with 200). A
failure waits before the retry, doubling from ``MIN_BACKOFF_MS`` up to
``app_service_max_backoff_ms``; a service that is down holds only its own thread. Services
with ``url: null`` are sent nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from dataclasses import dataclass

import peewee

from ... import clock, db
from ...models.appservice import AppServiceState, AppServiceTransaction
from .. import background
from ..streams import notifier
from ..streams.positions import current_position
from . import client, transactions
from .registrations import AppService, Registry

logger = logging.getLogger(__name__)

MIN_BACKOFF_MS = 2000
# How long a waiting sender sleeps at most before it looks again (new events wake it sooner).
IDLE_WAIT_S = 30.0
# A process that does not hold a service's lease looks again this often.
LEASE_RETRY_S = 5.0
# After new events wake the sender, and after each delivered transaction, it waits this long
# so that a burst goes out in few transactions: the cost of a transaction (queries, a write,
# an HTTP exchange) is paid per transaction, in the worker processes that serve clients.
COALESCE_S = 0.1
# While events keep coming (the next transaction was already built when the last one was
# delivered), the wait is longer: on SQLite each transaction is a turn of the write lock that
# the event writers then wait for, so fewer, fuller transactions keep sending as fast as
# without a service. A service catching up on a backlog (a full transaction with more behind
# it) is sent the next at once.
BUSY_COALESCE_S = 0.5


@dataclass(frozen=True)
class Settings:
    max_events: int
    max_backoff_ms: int
    timeout_s: float

    @classmethod
    def from_config(cls, config) -> "Settings":
        return cls(max_events=config.app_service_max_events_per_transaction,
                   max_backoff_ms=config.app_service_max_backoff_ms,
                   timeout_s=config.app_service_timeout_s)

    @property
    def lease_ms(self) -> int:
        # Longer than one send can take, so a slow send never loses the lease midway.
        return int(self.timeout_s * 1000) + 30_000


_lock = threading.Lock()
_workers: dict[str, background.Worker] = {}
_owner: tuple[int, str] = (0, "")
# (owner, service ID) -> until when this process's lease holds (ms); renewed when a third is
# left, so a busy sender does not write its lease at every step.
_leases: dict[tuple[str, str], int] = {}


def _owner_id() -> str:
    """This process's name in leases (a forked worker gets its own)."""
    global _owner
    if _owner[0] != os.getpid():
        _owner = (os.getpid(), f"{os.getpid()}-{uuid.uuid4().hex[:16]}")
    return _owner[1]


def start_all(registry: Registry, settings: Settings) -> None:
    """Start this process's sender of every service that has a URL (at its first request)."""
    for service in registry.services:
        if service.url is not None:
            ensure_running(service, settings)


def ensure_running(service: AppService, settings: Settings) -> None:
    with _lock:
        worker = _workers.get(service.id)
        if worker is None:
            worker = _workers[service.id] = background.Worker(f"appservice-{service.id}", _run)
    worker.ensure_running(service, settings)


def _run(stop: threading.Event, service: AppService, settings: Settings) -> None:
    failures = background.FailureLog(logger, f"application service {service.id!r} sender")
    while not stop.is_set():
        above = None
        try:
            wait_s, above = step(service, settings)
            failures.succeeded()
        except Exception as exc:  # noqa: BLE001 - the sender must outlive any one failure
            failures.failed(exc, stop)
            wait_s = 1.0
        finally:
            background.release_connection()
        if stop.is_set() or wait_s <= 0:
            continue
        if above is not None:
            # Stopping wakes this wait too (the listener stops with the workers).
            if notifier.wait_for_position_above(above, wait_s):
                stop.wait(COALESCE_S)
        else:
            stop.wait(wait_s)
    _release_lease(service)


def step(service: AppService, settings: Settings) -> tuple[float, int | None]:
    """Do the next piece of work; (seconds to wait, stream position to wait above or None)."""
    state = transactions.state_of(service)
    if not _claim(service, settings):
        return LEASE_RETRY_S, None
    now = clock.now_ms()
    if state.retry_at_ts is not None and state.retry_at_ts > now:
        return (state.retry_at_ts - now) / 1000, None
    pending = transactions.pending(service.id)
    if pending is None:
        batch = transactions.prepare(service, settings.max_events, state.stream_position)
        if batch is None:
            return IDLE_WAIT_S, state.stream_position
        with db.write_transaction():
            transactions.store(service, batch)
        return 0, None
    return _send(service, pending, state, settings), None


def _claim(service: AppService, settings: Settings) -> bool:
    now = clock.now_ms()
    me = _owner_id()
    if _leases.get((me, service.id), 0) - now > settings.lease_ms * 2 // 3:
        return True
    with db.write_transaction():
        claimed = (AppServiceState.update(lease_owner=me, lease_until_ts=now + settings.lease_ms)
                   .where((AppServiceState.service_id == service.id)
                          & ((AppServiceState.lease_owner == me)
                             | AppServiceState.lease_owner.is_null()
                             | (AppServiceState.lease_until_ts < now)))
                   .execute())
    if claimed == 1:
        _leases[(me, service.id)] = now + settings.lease_ms
    else:
        _leases.pop((me, service.id), None)
    return claimed == 1


def _release_lease(service: AppService) -> None:
    _leases.pop((_owner_id(), service.id), None)
    try:
        with db.write_transaction():
            (AppServiceState.update(lease_owner=None, lease_until_ts=None)
             .where((AppServiceState.service_id == service.id)
                    & (AppServiceState.lease_owner == _owner_id())).execute())
    except Exception:  # noqa: BLE001 - the lease runs out by itself anyway
        logger.debug("could not release the lease of %s", service.id, exc_info=True)
    finally:
        background.release_connection()


def _send(service: AppService, txn: AppServiceTransaction, state: AppServiceState,
          settings: Settings) -> float:
    """Send one transaction; how long to wait before the next step."""
    background.release_connection()  # no database connection held while the service answers
    try:
        client.put_transaction(service, txn.txn_id, txn.body, settings.timeout_s)
    except client.ServiceError as exc:
        _failed(service, state, str(exc), settings)
        return COALESCE_S
    # The next transaction is read now and stored in the write that records this delivery:
    # one write (one turn of SQLite's write lock, which the event writers wait for) per
    # transaction delivered.
    batch = transactions.prepare(service, settings.max_events, state.stream_position)
    now = clock.now_ms()
    delivered = dict(last_success_ts=now, failing_since_ts=None, backoff_ms=0,
                     retry_at_ts=None, last_error=None)
    with db.write_transaction():
        (AppServiceTransaction.delete()
         .where((AppServiceTransaction.service_id == service.id)
                & (AppServiceTransaction.txn_id == txn.txn_id)).execute())
        queued = batch is not None and transactions.store(service, batch, **delivered)
        if batch is None:
            (AppServiceState.update(**delivered)
             .where(AppServiceState.service_id == service.id).execute())
    if state.failing_since_ts is not None:
        logger.info("application service %s is reachable again", service.id)
    if not queued:
        return COALESCE_S
    return 0 if batch.behind else BUSY_COALESCE_S


def _failed(service: AppService, state: AppServiceState, error: str,
            settings: Settings) -> None:
    now = clock.now_ms()
    backoff = min(max(state.backoff_ms * 2, MIN_BACKOFF_MS), settings.max_backoff_ms)
    if state.failing_since_ts is None:
        logger.warning("application service %s: transaction failed (%s); retrying with backoff",
                       service.id, error)
    with db.write_transaction():
        (AppServiceState.update(failing_since_ts=state.failing_since_ts or now,
                                backoff_ms=backoff, retry_at_ts=now + backoff,
                                last_error=error[:1000])
         .where(AppServiceState.service_id == service.id).execute())


def delivery_states(registry: Registry) -> list[dict]:
    """Each service's delivery state (``homeserver appservice list``)."""
    states = {row.service_id: row for row in AppServiceState.select()}
    queued = {service_id: count for service_id, count in
              AppServiceTransaction.select(AppServiceTransaction.service_id,
                                           peewee.fn.COUNT(AppServiceTransaction.txn_id))
              .group_by(AppServiceTransaction.service_id).tuples()}
    position = current_position()
    out = []
    for service in registry.services:
        state = states.get(service.id)
        out.append({
            "id": service.id, "url": service.url, "sender": service.sender,
            "file": service.path,
            "last_success_ts": state.last_success_ts if state else None,
            "queued_transactions": queued.get(service.id, 0),
            "stream_positions_behind": max(0, position - state.stream_position) if state else 0,
            "failing_since_ts": state.failing_since_ts if state else None,
            "backoff_ms": state.backoff_ms if state else 0,
            "retry_at_ts": state.retry_at_ts if state else None,
            "last_error": state.last_error if state else None,
        })
    return out
