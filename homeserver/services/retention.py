"""The retention job: deletes rows that would otherwise pile up for ever, in bounded batches.

- user-interactive auth sessions past their lifetime (``uia.SESSION_LIFETIME_MS``), releasing
  the registration-token uses they held;
- push notifications (``NotifyingEvent``/``PushAction``, what GET /notifications lists and
  unread counts count) older than ``retention.notifications_max_age_ms``: unread counts then
  count notifications within that window, as GET /notifications lists;
- media IDs reserved (POST /create) and never uploaded, past their expiry, and cached URL
  previews past ``media.url_preview.cache_ttl_ms``;
- transaction IDs older than ``requests.txn_id_lifetime_ms``.

One thread per process (services/background.py), started at the process's first request; it
runs every ``retention.interval_s`` (first after one interval, so a busy start-up is left
alone). Each batch is its own short transaction of at most ``retention.batch_size`` rows, so
the job never holds the database for long; the deletes are idempotent, so processes running
it at once only share the work.
"""

from __future__ import annotations

import logging
import threading

from .. import clock
from ..db import write_transaction
from ..models.push import NotifyingEvent, PushAction
from . import background
from .accounts import uia
from .media import admin as media_admin
from .policy import txn_ids

logger = logging.getLogger(__name__)

_passes = threading.Condition()
_completed = 0


def ensure_running(settings: dict) -> None:
    if settings["enabled"]:
        _worker.ensure_running(dict(settings))


def _batches(delete_batch, stop: threading.Event | None) -> int:
    """Run ``delete_batch()`` (returning rows deleted, at most a batch) until a batch is short."""
    total = 0
    while stop is None or not stop.is_set():
        deleted, full = delete_batch()
        total += deleted
        if not full:
            break
    return total


def _notifications_batch(cutoff_ts: int, limit: int) -> tuple[int, bool]:
    """One batch of old notifications: whole events at a time, so that no event's exceptions
    (PushAction) outlive its common outcome (NotifyingEvent) or the other way round."""
    with write_transaction():
        positions = [row.stream_ordering for row in
                     NotifyingEvent.select(NotifyingEvent.stream_ordering)
                     .where(NotifyingEvent.ts < cutoff_ts)
                     .order_by(NotifyingEvent.stream_ordering).limit(limit)]
        if positions:
            PushAction.delete().where(PushAction.stream_ordering.in_(positions)).execute()
            NotifyingEvent.delete().where(
                NotifyingEvent.stream_ordering.in_(positions)).execute()
            return len(positions), len(positions) == limit
        # Events whose common outcome did not notify: only exceptions are stored.
        oldest = (PushAction.select(PushAction.id).where(PushAction.ts < cutoff_ts)
                  .order_by(PushAction.id).limit(limit))
        deleted = PushAction.delete().where(PushAction.id.in_(oldest)).execute()
        return deleted, deleted == limit


def run_once(settings: dict, stop: threading.Event | None = None) -> dict:
    """One pass over every kind of row; returns how many of each went."""
    limit = settings["batch_size"]
    now = clock.now_ms()

    def uia_batch():
        with write_transaction():
            deleted = uia.delete_expired(clock.now_ms(), limit)
        return deleted, deleted == limit

    def counted(delete):
        def batch():
            deleted = delete()
            return deleted, deleted == limit
        return batch

    done = {
        "uia_sessions": _batches(uia_batch, stop),
        "notifications": _batches(lambda: _notifications_batch(
            now - settings["notifications_max_age_ms"], limit), stop),
        "media_reservations": _batches(counted(
            lambda: media_admin.delete_expired_reservations(now, limit)), stop),
        "url_previews": _batches(counted(
            lambda: media_admin.delete_expired_previews(now, limit)), stop),
        "transaction_ids": _batches(counted(lambda: txn_ids.delete_expired(limit)), stop),
    }
    if any(done.values()):
        logger.info("retention: deleted %s", ", ".join(f"{n} {k}" for k, n in done.items() if n))
    return done


def _run(stop: threading.Event, settings: dict) -> None:
    failures = background.FailureLog(logger, "retention job")

    def one_pass() -> None:
        global _completed
        try:
            run_once(settings, stop)
        finally:
            with _passes:
                _completed += 1
                _passes.notify_all()

    background.run_every(stop, settings["interval_s"], failures, one_pass)


_worker = background.Worker("retention", _run)


def passes() -> int:
    """How many passes this process's job has finished (for tests: ``wait_for_pass``)."""
    with _passes:
        return _completed


def wait_for_pass(after: int, timeout_s: float) -> bool:
    """Wait until more than ``after`` passes have finished."""
    with _passes:
        return _passes.wait_for(lambda: _completed > after, timeout_s)
