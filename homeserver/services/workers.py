"""The background workers a process starts at its first request (create_app registers the
hook; see services/background.py for why at the first request): those with work left in the
database from before this process, e.g. after a restart. Writes start them too when they make
work (a pusher set, a typing notice, a deactivation with rooms left to leave)."""

from __future__ import annotations

from .accounts import deactivation
from .background import stop_all
from .ephemeral import expiry as ephemeral_expiry
from .push import sender as push_sender

__all__ = ["start_if_work", "stop_all"]


def start_if_work(config) -> None:
    # Notifications queued before a restart go out without waiting for a new event.
    push_sender.start_if_work(config.push)
    # Typing expiries and presence timeouts become stream positions.
    ephemeral_expiry.start_if_work()
    # Rooms a deactivated account had still to leave when a process stopped: leave them.
    deactivation.start_sweep_if_work()
