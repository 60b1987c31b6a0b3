"""Idle guest accounts expire: a guest with no request for ``registration.guest_idle_expiry_ms``
is deactivated like any account (accounts/deactivation.py: devices and tokens deleted, rooms
left), so guest rows, devices and memberships do not pile up on a public server.

Idle means: created before the cut-off and no device seen since it (a device's last_seen_ts is
written at most once a minute, accounts/access_tokens.py). One thread per process
(services/background.py), started at a process's first request when guests are allowed, and
by a guest registration; every process may sweep (a second sweeper finds nothing due).
"""

from __future__ import annotations

import logging
import threading

from peewee import fn

from ... import clock
from ...models.users import Device, User
from .. import background
from . import deactivation

logger = logging.getLogger(__name__)

# Seconds between sweeps; expiry is a matter of days, a minute late is nothing.
SWEEP_INTERVAL_S = 60.0
BATCH = 100

def start_if_work(registration: dict) -> None:
    """At a process's first request: sweep while guests may exist and expire."""
    if registration["guest_idle_expiry_ms"] is None:
        return
    if registration["allow_guests"] or User.select().where(
            User.is_guest & ~User.deactivated).exists():
        ensure_running(registration["guest_idle_expiry_ms"])


def ensure_running(idle_ms: int | None) -> None:
    if idle_ms is not None:
        _worker.ensure_running(idle_ms)


def idle_guests(idle_ms: int, limit: int = BATCH) -> list[str]:
    """Live guest accounts with no activity for ``idle_ms``, oldest first."""
    cutoff = clock.now_ms() - idle_ms
    seen_since = Device.select(Device.device_id).where(
        (Device.user == User.user_id) & (Device.last_seen_ts >= cutoff))
    rows = (User.select(User.user_id)
            .where(User.is_guest & ~User.deactivated & (User.created_ts < cutoff)
                   & ~fn.EXISTS(seen_since))
            .order_by(User.created_ts, User.user_id)
            .limit(limit)
            .tuples())
    return [user_id for (user_id,) in rows]


def expire_idle(idle_ms: int) -> list[str]:
    """Deactivate every idle guest (in batches); returns the accounts expired."""
    expired = []
    while True:
        batch = idle_guests(idle_ms)
        for user_id in batch:
            deactivation.deactivate_account(user_id)
            deactivation.after_commit(user_id, [], None)
            expired.append(user_id)
        if len(batch) < BATCH:
            return expired


def _run(stop: threading.Event, idle_ms: int) -> None:
    def step() -> None:
        expired = expire_idle(idle_ms)
        if expired:
            logger.info("expired %d idle guest accounts", len(expired))

    background.run_every(stop, SWEEP_INTERVAL_S,
                         background.FailureLog(logger, "idle guest expiry"), step)


_worker = background.Worker("guest-expiry", _run)
