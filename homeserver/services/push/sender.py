"""Sends queued notifications to push gateways (Push Gateway API: POST {url} with
``{"notification": {...}}``), from background threads that never hold up an event's sender.

The queue is the PushDelivery table: rows are written in the event's transaction
(services/push/actions.py), so nothing is lost by a crash or restart. A dispatcher claims due
rows (``claim`` + ``claimed_until``: a claim that ran out is taken over) and hands each to a
delivery thread, which posts it, deletes it on success, and on failure retries it with
exponential backoff until ``push.give_up_after_ms``. Pushkeys the gateway lists as ``rejected``
lose their pusher.

Gateways are reached under the address policy of URL previews (services/outbound_http.py:
resolved and checked address, pinned connection, no redirects, one deadline per request), so a
pusher URL cannot make this server talk to its own network. One slow gateway cannot delay the
others: at most ``push.max_concurrent_per_gateway`` deliveries go to one gateway at once, at most
``push.max_concurrent_deliveries`` in all, and a pusher has one delivery in flight at a time (its
notifications go out in order). The dispatcher never claims rows of a gateway or pusher that
is at its limit, so they wait in the table, not in memory.

Per process (services/background.py): the dispatcher thread and its delivery pool start at
the process's first request (services/workers.py, from create_app), with the settings of the
config they are given. It runs when this process queued a delivery (push/queued.py, once the
queuing transaction's stream position has committed), when a retry comes due, when a delivery
thread frees a slot, and every ``IDLE_WAIT_S`` (rows another process queued, claims that ran
out). It used to run on every stream position any process committed: two queries per event in
every worker, a fifth of the server's CPU while messages flowed, with no pusher anywhere. When
the background workers stop, the pool takes no new delivery and the threads end (a delivery
cut short keeps its claim until the lease runs out, then is retried).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ... import clock
from ...db import write_transaction
from ...models.push import PushDelivery, Pusher
from ...models.rooms import CurrentState, Event
from .. import background
from ..ephemeral import read_positions
from ..outbound_http import AddressPolicy, FetchError, post_json
from ..streams import notifier
from . import badges, notifications, pushers
from .queued import queued_deliveries as _queued
from .evaluator import tweaks

logger = logging.getLogger(__name__)

BATCH = 50
LEASE_MARGIN_MS = 60_000
FIRST_RETRY_MS = 1_000
MAX_RETRY_MS = 10 * 60 * 1000
IDLE_WAIT_S = 5.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "homeserver push"


@dataclass(frozen=True)
class Settings:
    timeout_s: float = 10.0
    give_up_after_ms: int = 24 * 3600 * 1000
    addresses: AddressPolicy = field(default_factory=lambda: AddressPolicy((), ()))
    per_gateway: int = 4
    workers: int = 16

    @classmethod
    def from_config(cls, push_section: dict) -> "Settings":
        return cls(timeout_s=push_section["gateway_timeout_s"],
                   give_up_after_ms=push_section["give_up_after_ms"],
                   addresses=AddressPolicy.from_config(push_section),
                   per_gateway=push_section["max_concurrent_per_gateway"],
                   workers=push_section["max_concurrent_deliveries"])

    @property
    def lease_ms(self) -> int:
        # Longer than any one delivery can take, so a live claim is never taken over.
        return int(self.timeout_s * 1000) + LEASE_MARGIN_MS


class _InFlight:
    """This process's deliveries in flight, by gateway and by pusher."""

    def __init__(self):
        self.lock = threading.Lock()
        self.gateways: Counter = Counter()
        self.pushers: set[int] = set()

    def total(self) -> int:
        return len(self.pushers)


_dispatch_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_size = 0
_in_flight = _InFlight()


def ensure_running(push_section: dict) -> None:
    _worker.ensure_running(prepare=lambda: _prepare(push_section))


def _prepare(push_section: dict) -> tuple | None:
    """The delivery pool the dispatcher hands work to (None: this generation is stopping)."""
    global _executor, _executor_size, _in_flight
    settings = Settings.from_config(push_section)
    executor = ThreadPoolExecutor(max_workers=settings.workers,
                                  thread_name_prefix="push-delivery",
                                  initializer=background.adopt)
    if not background.on_stop(lambda: executor.shutdown(wait=False, cancel_futures=True)):
        executor.shutdown(wait=False)
        return None
    background.on_stop(_queued.event.set)  # the dispatcher's wait ends at once
    _in_flight = _InFlight()  # after a fork or a stop, earlier deliveries are not ours
    _executor, _executor_size = executor, settings.workers
    return (settings,)


def _run(stop: threading.Event, settings: Settings) -> None:
    failures = background.FailureLog(logger, "push sender")
    while not stop.is_set():
        try:
            wait_ms = dispatch(settings)
            failures.succeeded()
            if wait_ms > 0 and not stop.is_set() \
                    and _queued.event.wait(min(IDLE_WAIT_S, wait_ms / 1000)):
                position = _queued.take()
                if position is not None and not stop.is_set():
                    # Its rows are visible once it has committed (positions commit in order;
                    # stopping wakes this wait too: the listener stops with the workers).
                    notifier.wait_for_position_above(position - 1, IDLE_WAIT_S)
        except Exception as exc:  # noqa: BLE001 - the sender must outlive any one failure
            failures.failed(exc, stop)
            stop.wait(1.0)
        finally:
            background.release_connection()


def _due(now: int):
    return ((PushDelivery.next_attempt_ts <= now)
            & (PushDelivery.claim.is_null() | (PushDelivery.claimed_until < now)))


def _pick(settings: Settings, now: int) -> list[int]:
    """IDs of due deliveries that may start now: not for a pusher with one in flight, nor
    beyond a gateway's or the process's limit."""
    with _in_flight.lock:
        free = min(settings.workers, _executor_size) - _in_flight.total()
        busy_pushers = list(_in_flight.pushers)
        gateway_load = Counter(_in_flight.gateways)
    if free <= 0:
        return []
    busy_gateways = [g for g, n in gateway_load.items() if n >= settings.per_gateway]
    query = (PushDelivery.select(PushDelivery.id, PushDelivery.pusher, Pusher.gateway)
             .join(Pusher).where(_due(now)))
    if busy_pushers:
        query = query.where(PushDelivery.pusher.not_in(busy_pushers))
    if busy_gateways:
        query = query.where(Pusher.gateway.not_in(busy_gateways))
    picked, seen_pushers = [], set()
    for delivery_id, pusher_id, gateway in query.order_by(PushDelivery.id).limit(BATCH).tuples():
        if len(picked) >= free:
            break
        if pusher_id in seen_pushers or gateway_load[gateway] >= settings.per_gateway:
            continue
        seen_pushers.add(pusher_id)
        gateway_load[gateway] += 1
        picked.append(delivery_id)
    return picked


def dispatch(settings: Settings) -> int:
    """Start the deliveries that are due and have a free slot. Returns ms until more work may
    be due (0: now); a delivery thread that ends dispatches again."""
    with _dispatch_lock:
        executor = _executor
        if executor is None:
            return int(IDLE_WAIT_S * 1000)
        now = clock.now_ms()
        picked = _pick(settings, now)
        if picked:
            token = uuid.uuid4().hex
            with write_transaction():
                PushDelivery.update(claim=token, claimed_until=now + settings.lease_ms).where(
                    PushDelivery.id.in_(picked) & _due(now)).execute()
            claimed = list(PushDelivery.select(PushDelivery, Pusher).join(Pusher)
                           .where(PushDelivery.claim == token).order_by(PushDelivery.id))
            for row in claimed:
                with _in_flight.lock:
                    _in_flight.pushers.add(row.pusher.id)
                    _in_flight.gateways[row.pusher.gateway] += 1
                try:
                    executor.submit(_work, row, settings)
                except RuntimeError:  # stopping: the claim runs out and the row is retried
                    with _in_flight.lock:
                        _in_flight.pushers.discard(row.pusher.id)
                        _in_flight.gateways[row.pusher.gateway] -= 1
                    return int(IDLE_WAIT_S * 1000)
            if claimed:
                return 0 if len(claimed) == len(picked) else 100
        # Due rows left unclaimed wait for a slot: the delivery that frees it dispatches.
        upcoming = (PushDelivery.select(PushDelivery.next_attempt_ts)
                    .where(PushDelivery.claim.is_null() & (PushDelivery.next_attempt_ts > now))
                    .order_by(PushDelivery.next_attempt_ts).limit(1).scalar())
    if upcoming is None:
        return int(IDLE_WAIT_S * 1000)
    return max(1, upcoming - clock.now_ms())


def _work(row: PushDelivery, settings: Settings) -> None:
    try:
        _deliver(row, settings)
    except Exception:  # noqa: BLE001 - the claim runs out and the row is retried
        logger.exception("push delivery failed")
    finally:
        with _in_flight.lock:
            _in_flight.pushers.discard(row.pusher.id)
            _in_flight.gateways[row.pusher.gateway] -= 1
            if _in_flight.gateways[row.pusher.gateway] <= 0:
                del _in_flight.gateways[row.pusher.gateway]
    try:
        dispatch(settings)  # a slot is free: start what was waiting for it
    except Exception:  # noqa: BLE001 - the dispatcher thread will pick it up
        logger.exception("push dispatch failed")
    finally:
        background.release_connection()


def _deliver(row: PushDelivery, settings: Settings) -> None:
    pusher = row.pusher
    payload = build_payload(row, pusher)
    if payload is None:
        _finish(row)
        return
    url = json.loads(pusher.data).get("url")
    rejected: list = []
    try:
        status, raw = post_json(url, json.dumps(payload).encode(), settings.addresses,
                                settings.timeout_s, MAX_RESPONSE_BYTES, USER_AGENT)
        ok = 200 <= status < 300
        if ok:
            try:
                body = json.loads(raw)
                rejected = body.get("rejected") or [] if isinstance(body, dict) else []
            except ValueError:
                rejected = []
        else:
            logger.info("push gateway %s answered %s", url, status)
    except FetchError as exc:
        logger.info("push gateway %s unreachable: %s", url, exc)
        ok = False
    if ok:
        _finish(row)
        if isinstance(rejected, list) and pusher.pushkey in rejected:
            pushers.remove_rejected(pusher.user_id, pusher.app_id, [pusher.pushkey])
        return
    now = clock.now_ms()
    if now - row.created_ts >= settings.give_up_after_ms:
        logger.warning("giving up on a push notification for %s to %s", pusher.user_id, url)
        _finish(row)
        return
    delay = min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** min(row.attempts, 20))
    with write_transaction():
        PushDelivery.update(attempts=row.attempts + 1, next_attempt_ts=now + delay, claim=None,
                            claimed_until=None).where(PushDelivery.id == row.id).execute()


def _finish(row: PushDelivery) -> None:
    with write_transaction():
        PushDelivery.delete().where(PushDelivery.id == row.id).execute()


# --- the notification -------------------------------------------------------------------------

def _state_content(room_id: str, event_type: str, state_key: str) -> dict:
    row = (Event.select(Event.json).join(CurrentState, on=(Event.event_id == CurrentState.event_id))
           .where((CurrentState.room == room_id) & (CurrentState.type == event_type)
                  & (CurrentState.state_key == state_key)).first())
    content = json.loads(row.json).get("content") if row is not None else None
    return content if isinstance(content, dict) else {}


def build_payload(row: PushDelivery, pusher: Pusher) -> dict | None:
    """The Push Gateway API body for one queued notification, or None when there is nothing
    to send any more (the event is gone, or the user read it meanwhile)."""
    user_id = pusher.user_id
    data = {k: v for k, v in json.loads(pusher.data).items() if k != "url"}
    device = {"app_id": pusher.app_id, "pushkey": pusher.pushkey,
              "pushkey_ts": pusher.created_ts // 1000, "data": data}
    if row.event_id == badges.BADGE:
        # Synapse's badge update: no event, the count as it is now.
        return {"notification": {"id": "", "type": None, "sender": "",
                                 "counts": {"unread": notifications.total_unread(user_id)},
                                 "devices": [device]}}
    event = Event.get_or_none(Event.event_id == row.event_id)
    if event is None:
        return None
    if notifications.is_read(user_id, row.room_id, read_positions.thread_of_row(event),
                             row.stream_ordering):
        return None
    actions = json.loads(row.actions)
    set_tweaks = tweaks(actions)
    device["tweaks"] = set_tweaks
    urgent = "sound" in set_tweaks or set_tweaks.get("highlight") is True
    notification = {"event_id": row.event_id, "room_id": row.room_id,
                    "counts": {"unread": notifications.total_unread(user_id)},
                    "prio": "high" if urgent else "low", "devices": [device]}
    if data.get("format") != "event_id_only":
        pdu = json.loads(event.json)
        content = pdu.get("content") if isinstance(pdu.get("content"), dict) else {}
        # "id" repeats event_id and "membership" the member event's: neither is in the Push
        # Gateway API, both are in Synapse's payload, which gateways written against it read.
        notification.update(id=row.event_id, type=event.type, sender=event.sender,
                            content=content)
        if event.type == "m.room.member":
            notification["user_is_target"] = event.state_key == user_id
            if isinstance(content.get("membership"), str):
                notification["membership"] = content["membership"]
        name = _state_content(row.room_id, "m.room.member", event.sender).get("displayname")
        if isinstance(name, str):
            notification["sender_display_name"] = name
        room_name = _state_content(row.room_id, "m.room.name", "").get("name")
        alias = _state_content(row.room_id, "m.room.canonical_alias", "").get("alias")
        if isinstance(alias, str):
            notification["room_alias"] = alias
            # A room without a name is called by its alias (the spec's room display name
            # order; Synapse's payload does so too).
            if not (isinstance(room_name, str) and room_name):
                room_name = alias
        if isinstance(room_name, str) and room_name:
            notification["room_name"] = room_name
    return {"notification": notification}


_worker = background.Worker("push-sender", _run)
