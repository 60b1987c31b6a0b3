"""Turns time-based changes into stream positions: typing that ran out, presence going idle or
offline (and, every few minutes, deletes expired txnId records: ``txn_ids.expire_due``).
Readers already hide expired typing and show derived presence; this sweep gives those changes
a position so that waiting /syncs wake up and deliver them.

One thread per process (services/background.py), started at the process's first request
(``services/workers.py``, from create_app); every process sweeps, as the writes are idempotent
(a second sweeper finds nothing due).
"""

from __future__ import annotations

import logging
import threading
import time

from .. import background
from ..policy import txn_ids
from . import presence, typing

logger = logging.getLogger(__name__)

INTERVAL_S = 1.0
# Presence changes at a scale of a minute (offline) or minutes (idle): swept every 5 s (as
# Synapse), so the transitions that came due meanwhile share one wake-up of each watcher's
# long-poll (in a room of 500, one transition wakes 500 /syncs).
PRESENCE_INTERVAL_S = 5.0
_presence_swept_at: float | None = None


def ensure_running() -> None:
    _worker.ensure_running()


def run_once() -> None:
    global _presence_swept_at
    typing.expire_due()
    now = time.monotonic()
    if _presence_swept_at is None or now - _presence_swept_at >= PRESENCE_INTERVAL_S:
        _presence_swept_at = now
        presence.expire_due()
    txn_ids.expire_due()


def _run(stop: threading.Event) -> None:
    background.run_every(stop, INTERVAL_S,
                         background.FailureLog(logger, "typing/presence expiry"), run_once)


_worker = background.Worker("ephemeral-expiry", _run)
