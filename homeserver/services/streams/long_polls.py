"""How many long-polls (/sync, /events) may wait at once, per device and per user (in one
process), and for how long one may wait.

A waiting long-poll holds a worker thread. A client has one /sync in flight per device; a
second one for the same device means the first was abandoned (the client timed out or lost its
connection, which the server does not notice while the request waits) or an attacker is
opening hundreds to take every thread. So a new long-poll beyond
``per_user_limits.max_long_polls_per_device`` (or ``max_long_polls_per_user`` across the
user's devices) answers the OLDEST waiting one at once, with the empty incremental response
it would have sent on timeout, and takes its place.

Why not refuse the new one (429)? A client whose previous connection died would be refused
until the dead request timed out (up to two minutes), and every client backs off on 429. Why
not answer the new one at once? The client would sync again immediately, in a loop, while the
stale request kept its thread. Evicting the oldest keeps the threads bounded and the newest
request (the one a live client waits for) working.
"""

from __future__ import annotations

import threading
from collections import deque

# Long-polls waiting at once, per device and per user, when the caller passes no limits.
DEFAULT_LONG_POLLS = {"max_long_polls_per_device": 2, "max_long_polls_per_user": 10}
# A long-poll never lasts longer than this, whatever the client asks (proxies cut idle
# connections; the client just syncs again).
MAX_TIMEOUT_MS = 120_000


class Slot:
    """One waiting long-poll. ``event`` wakes it (a write, or eviction); ``evicted`` says it
    must answer now; ``shows_presence``: its client counts as connected for presence (not a
    sync with ``set_presence=offline``)."""

    __slots__ = ("user_id", "device_key", "event", "evicted", "shows_presence")

    def __init__(self, user_id: str, device_key: tuple[str, str], shows_presence: bool):
        self.user_id = user_id
        self.device_key = device_key
        self.event = threading.Event()
        self.evicted = False
        self.shows_presence = shows_presence

    def evict(self) -> None:
        self.evicted = True
        self.event.set()


class _Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._by_device: dict[tuple[str, str], deque[Slot]] = {}
        self._by_user: dict[str, deque[Slot]] = {}
        self._stopping = False

    def enter(self, user_id: str, device_id: str, per_device: int, per_user: int, *,
              shows_presence: bool = True) -> Slot:
        slot = Slot(user_id, (user_id, device_id), shows_presence)
        with self._lock:
            if self._stopping:
                slot.evict()  # the process is stopping: answer at once
                return slot
            device_slots = self._by_device.setdefault(slot.device_key, deque())
            user_slots = self._by_user.setdefault(user_id, deque())
            device_slots.append(slot)
            user_slots.append(slot)
            for slots, cap in ((device_slots, per_device), (user_slots, per_user)):
                while len(slots) > cap:
                    self._remove(slots[0]).evict()
        return slot

    def leave(self, slot: Slot) -> None:
        with self._lock:
            self._remove(slot)

    def _remove(self, slot: Slot) -> Slot:
        for table, key in ((self._by_device, slot.device_key), (self._by_user, slot.user_id)):
            slots = table.get(key)
            if slots is not None:
                try:
                    slots.remove(slot)
                except ValueError:
                    pass
                if not slots:
                    del table[key]
        return slot

    def answer_all(self) -> None:
        """The process is stopping: every waiting long-poll answers now (as on timeout), and
        later ones at once, so the stop does not wait for them (gunicorn's graceful timeout)."""
        with self._lock:
            self._stopping = True
            slots = [slot for slots in self._by_user.values() for slot in slots]
        for slot in slots:
            slot.evict()

    def users_present(self) -> list[str]:
        """The users with a long-poll waiting in this process that shows them connected."""
        with self._lock:
            return [user_id for user_id, slots in self._by_user.items()
                    if any(slot.shows_presence for slot in slots)]

    def waiting(self, user_id: str, device_id: str | None = None) -> int:
        with self._lock:
            if device_id is None:
                return len(self._by_user.get(user_id, ()))
            return len(self._by_device.get((user_id, device_id), ()))


registry = _Registry()
