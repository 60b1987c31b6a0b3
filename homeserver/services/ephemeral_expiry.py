"""Turns time-based changes into stream positions: typing that ran out, presence going idle or
offline (and, every few minutes, deletes expired txnId records: ``txn_ids.expire_due``). Readers already hide expired typing and show derived presence; this sweep gives those
changes a position so that waiting /syncs wake up and deliver them.

One thread per process, started when the process first writes typing or presence (or, at its
first request, finds some that may expire); every process may sweep, as the writes are
idempotent (a second sweeper finds nothing due).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from ..db import database
from . import presence, txn_ids, typing

logger = logging.getLogger(__name__)

INTERVAL_S = 1.0

_lock = threading.Lock()
_started_in_pid: int | None = None
_checked_in_pid: int | None = None


def start_if_work() -> None:
    """Once per process (its first request): start the sweep if something may expire."""
    global _checked_in_pid
    if _checked_in_pid == os.getpid():
        return
    _checked_in_pid = os.getpid()
    if typing.anything_to_expire() or presence.anything_to_expire():
        ensure_running()


def ensure_running() -> None:
    global _started_in_pid
    if _started_in_pid == os.getpid():
        return
    with _lock:
        if _started_in_pid == os.getpid():
            return
        threading.Thread(target=_run, name="ephemeral-expiry", daemon=True).start()
        _started_in_pid = os.getpid()


def run_once() -> None:
    typing.expire_due()
    presence.expire_due()
    txn_ids.expire_due()


def _run() -> None:
    while True:
        time.sleep(INTERVAL_S)
        try:
            run_once()
        except Exception:  # noqa: BLE001 - the sweep must outlive any one failure
            logger.exception("typing/presence expiry failed")
        finally:
            db = database.obj
            if db is not None and not db.is_closed() and not db.in_transaction():
                db.close()
