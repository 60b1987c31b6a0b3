"""Sends queued notifications to push gateways (Push Gateway API: POST {url} with
``{"notification": {...}}``), from a background thread that never holds up an event's sender.

The queue is the PushDelivery table: rows are written in the event's transaction
(services/push_actions.py), so nothing is lost by a crash or restart. A sender claims a batch
(``claim`` + ``claimed_until``: a claim that ran out is taken over), posts each notification,
deletes it on success, and on failure retries it with exponential backoff until
``push.give_up_after_ms``. Pushkeys the gateway lists as ``rejected`` lose their pusher.

One sender thread per process, started when the process first sees a pusher; it wakes when any
stream position commits (services/notifier) and when a retry comes due.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass

import requests

from .. import db
from ..db import database, write_transaction
from ..models.push import PushDelivery, Pusher
from ..models.rooms import CurrentState, Event
from . import notifications, notifier, pushers, streams
from .push_evaluator import tweaks

logger = logging.getLogger(__name__)

BATCH = 50
LEASE_MS = 120_000
FIRST_RETRY_MS = 1_000
MAX_RETRY_MS = 10 * 60 * 1000
IDLE_WAIT_S = 5.0


@dataclass(frozen=True)
class Settings:
    timeout_s: float = 10.0
    give_up_after_ms: int = 24 * 3600 * 1000


_lock = threading.Lock()
_started_in_pid: int | None = None
_checked_in_pid: int | None = None


def start_if_work(push_section: dict) -> None:
    """Once per process (its first request): start the sender if any pusher exists, so
    notifications queued before a restart go out without waiting for a new pusher."""
    global _checked_in_pid
    if _checked_in_pid == os.getpid():
        return
    _checked_in_pid = os.getpid()
    if Pusher.select().exists():
        ensure_running(push_section)


def ensure_running(push_section: dict) -> None:
    global _started_in_pid
    if _started_in_pid == os.getpid():
        return
    with _lock:
        if _started_in_pid == os.getpid():
            return
        settings = Settings(timeout_s=push_section["gateway_timeout_s"],
                            give_up_after_ms=push_section["give_up_after_ms"])
        threading.Thread(target=_run, args=(settings,), name="push-sender", daemon=True).start()
        _started_in_pid = os.getpid()


def _run(settings: Settings) -> None:
    while True:
        try:
            position = streams.current_position()
            wait_ms = process_due(settings)
            if wait_ms > 0:
                notifier.wait_for_position_above(position, min(IDLE_WAIT_S, wait_ms / 1000))
        except Exception:  # noqa: BLE001 - the sender must outlive any one failure
            logger.exception("push sender failed")
            time.sleep(1.0)
        finally:
            conn = database.obj
            if conn is not None and not conn.is_closed() and not conn.in_transaction():
                conn.close()


def _due(now: int):
    return ((PushDelivery.next_attempt_ts <= now)
            & (PushDelivery.claim.is_null() | (PushDelivery.claimed_until < now)))


def process_due(settings: Settings) -> int:
    """Send one batch of due notifications. Returns ms until more work may be due (0: now)."""
    now = db.now_ms()
    ids = [i for (i,) in PushDelivery.select(PushDelivery.id).where(_due(now))
           .order_by(PushDelivery.id).limit(BATCH).tuples()]
    if ids:
        token = uuid.uuid4().hex
        with write_transaction():
            PushDelivery.update(claim=token, claimed_until=now + LEASE_MS).where(
                PushDelivery.id.in_(ids) & _due(now)).execute()
        claimed = list(PushDelivery.select(PushDelivery, Pusher).join(Pusher)
                       .where(PushDelivery.claim == token).order_by(PushDelivery.id))
        for row in claimed:
            _deliver(row, settings)
        if len(ids) == BATCH:
            return 0
    upcoming = (PushDelivery.select(PushDelivery.next_attempt_ts)
                .where(PushDelivery.claim.is_null())
                .order_by(PushDelivery.next_attempt_ts).limit(1).scalar())
    if upcoming is None:
        return int(IDLE_WAIT_S * 1000)
    return max(0, upcoming - db.now_ms())


def _deliver(row: PushDelivery, settings: Settings) -> None:
    pusher = row.pusher
    payload = build_payload(row, pusher)
    if payload is None:
        _finish(row)
        return
    url = json.loads(pusher.data).get("url")
    rejected: list = []
    try:
        response = requests.post(url, json=payload, timeout=settings.timeout_s)
        ok = 200 <= response.status_code < 300
        if ok:
            try:
                body = response.json()
                rejected = body.get("rejected") or [] if isinstance(body, dict) else []
            except ValueError:
                rejected = []
        else:
            logger.info("push gateway %s answered %s", url, response.status_code)
    except requests.RequestException as exc:
        logger.info("push gateway %s unreachable: %s", url, exc)
        ok = False
    if ok:
        _finish(row)
        if pusher.pushkey in rejected:
            pushers.remove_rejected(pusher.user_id, pusher.app_id, [pusher.pushkey])
        return
    now = db.now_ms()
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
    event = Event.get_or_none(Event.event_id == row.event_id)
    if event is None:
        return None
    user_id = pusher.user_id
    if notifications.is_read(user_id, row.room_id, notifications.thread_of_row(event),
                             row.stream_ordering):
        return None
    actions = json.loads(row.actions)
    set_tweaks = tweaks(actions)
    data = {k: v for k, v in json.loads(pusher.data).items() if k != "url"}
    device = {"app_id": pusher.app_id, "pushkey": pusher.pushkey,
              "pushkey_ts": pusher.created_ts // 1000, "data": data, "tweaks": set_tweaks}
    urgent = "sound" in set_tweaks or set_tweaks.get("highlight") is True
    notification = {"event_id": row.event_id, "room_id": row.room_id,
                    "counts": {"unread": notifications.total_unread(user_id)},
                    "prio": "high" if urgent else "low", "devices": [device]}
    if data.get("format") != "event_id_only":
        pdu = json.loads(event.json)
        notification.update(type=event.type, sender=event.sender,
                            content=pdu.get("content") if isinstance(pdu.get("content"), dict)
                            else {})
        if event.type == "m.room.member":
            notification["user_is_target"] = event.state_key == user_id
        name = _state_content(row.room_id, "m.room.member", event.sender).get("displayname")
        if isinstance(name, str):
            notification["sender_display_name"] = name
        room_name = _state_content(row.room_id, "m.room.name", "").get("name")
        if isinstance(room_name, str) and room_name:
            notification["room_name"] = room_name
        alias = _state_content(row.room_id, "m.room.canonical_alias", "").get("alias")
        if isinstance(alias, str):
            notification["room_alias"] = alias
    return {"notification": notification}
