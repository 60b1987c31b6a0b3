"""Timestamps that only say "seen at" (no state change), written behind the requests.

An idle client re-polls /sync every 30 s or so; writing the time it was last seen on each of
those requests made a thousand idle clients some thirty write transactions a second, each
waiting for SQLite's single writer. A ``SeenTimes`` keeps the latest time of each key in this
process and writes them all in one transaction at most once per interval: when a note finds
the interval over, or when the owner calls ``flush`` (before a sweep reads the times).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

import peewee

from ..db import write_transaction
from ..errors import DatabaseBusy

logger = logging.getLogger(__name__)


class SeenTimes:
    def __init__(self, interval_ms: int,
                 write: Callable[[list[tuple[Hashable, int]]], None]):
        """``write(batch)`` stores ``[(key, seen_ts), ...]`` (inside a write transaction); it
        must never move a stored time backwards (another process may have written a later
        one)."""
        self._interval_ms = interval_ms
        self._write = write
        self._pending: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self._flushed_at: int | None = None

    def note(self, key: Hashable, seen_ts: int) -> None:
        with self._lock:
            if seen_ts > self._pending.get(key, -1):
                self._pending[key] = seen_ts
            last = self._flushed_at
            due = last is None or not 0 <= seen_ts - last < self._interval_ms
        if due:
            self.flush(seen_ts)

    def flush(self, now: int | None = None) -> None:
        with self._lock:
            batch = sorted(self._pending.items())
            self._pending.clear()
            if now is not None:
                self._flushed_at = now
        if not batch:
            return
        try:
            with write_transaction():
                self._write(batch)
        except (DatabaseBusy, peewee.OperationalError) as exc:
            # Kept for the next flush: a busy database must not fail the request that noted.
            logger.warning("could not write %d last-seen times: %s", len(batch), exc)
            with self._lock:
                for key, seen_ts in batch:
                    if seen_ts > self._pending.get(key, -1):
                        self._pending[key] = seen_ts

    def pending(self, key: Hashable) -> int | None:
        with self._lock:
            return self._pending.get(key)
