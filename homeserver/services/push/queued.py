"""The push dispatcher's wake-up: deliveries queued by this process.

A writer that queues PushDelivery rows (push/actions.py, push/badges.py) calls ``queued`` with
the stream position of its transaction; the dispatcher (push/sender.py) wakes, waits until that
position has committed (positions commit in order, so the rows are visible then), and claims
them. Rows queued by another process are that process's dispatcher's to start; every
dispatcher also looks now and then (``sender.IDLE_WAIT_S``), for claims that ran out.
"""

from __future__ import annotations

import threading


class QueuedDeliveries:
    """The newest stream position whose transaction queued a delivery in this process, and an
    event set when one is noted (and when the background workers stop)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._position: int | None = None
        self.event = threading.Event()

    def note(self, position: int) -> None:
        with self._lock:
            if self._position is None or position > self._position:
                self._position = position
        self.event.set()

    def take(self) -> int | None:
        """The newest position noted since the last ``take`` (None: none), clearing the
        event."""
        with self._lock:
            self.event.clear()
            position, self._position = self._position, None
        return position


queued_deliveries = QueuedDeliveries()


def queued(position: int) -> None:
    """Deliveries were queued in the transaction that took stream ``position`` (call inside
    it): this process's dispatcher claims them once that position has committed."""
    queued_deliveries.note(position)
