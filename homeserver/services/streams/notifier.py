"""Waking long-polling requests when a stream position they care about commits, in any process.

One listener thread per process and database learns about new stream positions:
- PostgreSQL: ``LISTEN`` on a dedicated connection (``services.streams.positions`` NOTIFYs in every
  writing transaction, so writes from any worker or host arrive), plus a slow safety read of the
  counter;
- SQLite: writers nudge the listeners of the host (``services.streams.doorbell``) just before
  they commit; a nudged listener reads the counter on its own connection every few ms for a
  moment, with the wake-up hints writers left in ``stream_wake_hint``. With nothing written it
  reads the counter once a second only, in case a nudge was lost (every ~50 ms when the
  doorbell could not be set up), so a thousand idle long-polls cost next to nothing.

It keeps a short history of changes (positions, and the rooms/users they concern) and wakes the
waiters they concern, and only those. ``wait_for_position_above`` is what a request calls; it
returns the request's database connection to the pool before blocking, so a thousand idle
long-polls hold no connection. ``start_listener`` starts it with the other background workers
at a process's first request (services/workers.py), or else the first wait does, in the process
that waits (so under gunicorn each worker, never the master, runs its own), as a
services/background.py thread: when the background workers stop, it ends, and the waiters it
had return (they re-check).

``quiet_position`` answers from the same record whether anything concerning some rooms or users
was written above a position (an incremental /sync with nothing new answers from it without
reading every stream); ``epoch`` changes whenever a listener starts over, so that what was
cached against an older record (services/sync/memberships.py) is not trusted with a newer one.
"""

from __future__ import annotations

import abc
import logging
import os
import select
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Iterable
from urllib.request import pathname2url

import peewee

from ...db import database
from .. import background
from . import doorbell, positions as streams

logger = logging.getLogger(__name__)

# With the doorbell a poll only catches a lost nudge; without it, it is how writes are found.
SQLITE_POLL_S = 1.0
SQLITE_POLL_WITHOUT_BELL_S = 0.05
# After a nudge (services/streams/doorbell.py) the SQLite counter is read this often, for this long.
SQLITE_FAST_POLL_S = 0.002
SQLITE_FAST_WINDOW_S = 0.25
# On PostgreSQL notifications do the work; this read only catches a lost connection or a
# database that was recreated.
POSTGRES_SAFETY_POLL_S = 10.0
# How long that read waits for the notifications of what it saw before it counts a gap.
POSTGRES_NOTIFY_GRACE_S = 0.2
RECONNECT_DELAY_S = 1.0
MAX_RECONNECT_DELAY_S = 30.0
RECENT_CHANGES = 4096
# How long an incremental /sync waits for the listener to hear of the counter it read before
# it gives up proving it has nothing new (and reads every stream instead).
QUIET_WAIT_S = 0.02

# Bumped whenever a listener starts (over): a new record, which may be of another database.
_epoch = 0
_epoch_lock = threading.Lock()


def _next_epoch() -> None:
    global _epoch
    with _epoch_lock:
        _epoch += 1


def epoch() -> int:
    """Changes whenever any listener of this process starts over (a new listener, a reconnect,
    a database whose counter went back): compare to a value kept with something cached."""
    return _epoch


@dataclass(frozen=True)
class _Change:
    """Positions in (after, upto] committed; they concern these rooms/users (None: everyone)."""

    after: int
    upto: int
    rooms: frozenset | None
    users: frozenset | None

    def concerns(self, rooms: frozenset | None, users: frozenset | None) -> bool:
        if self.rooms is None and self.users is None:
            return True
        if rooms is None and users is None:
            return True
        return bool((rooms and self.rooms and rooms & self.rooms)
                    or (users and self.users and users & self.users))


class _Waiter:
    __slots__ = ("above", "rooms", "users", "event")

    def __init__(self, above: int, rooms: frozenset | None, users: frozenset | None,
                 event: threading.Event | None = None):
        self.above = above
        self.rooms = rooms
        self.users = users
        self.event = event if event is not None else threading.Event()


class _Listener(abc.ABC):
    """The per-process, per-database listener. Subclasses feed ``_record`` from their source."""

    def __init__(self):
        _next_epoch()
        self._lock = threading.Lock()
        self._changes: deque[_Change] = deque(maxlen=RECENT_CHANGES)
        self._waiters: set[_Waiter] = set()
        self.latest: int | None = None
        self.stopped = False
        # Written to on stop: the thread's select() returns at once.
        self._wake_read, self._wake_write = os.pipe()
        if not background.on_stop(self.stop):
            # The background workers are stopping: no thread for this one, and its waiters
            # return at once (they re-check, and get the next generation's listener).
            self.stop()
            self._release()
            return
        try:
            self._connect()
        except Exception:  # noqa: BLE001 - the thread keeps retrying; waiters degrade to polling
            logger.exception("stream listener could not connect; retrying in the background")
        if background.start("stream-listener", self._run_forever) is None:
            self.stop()
            self._release()

    def stop(self) -> None:
        """Wake the thread (which ends) and every waiter (which re-checks)."""
        with self._lock:
            self.stopped = True
            for waiter in self._waiters:
                waiter.event.set()
            self._waiters.clear()
            if self._wake_write is not None:
                os.write(self._wake_write, b"x")

    def _release(self) -> None:
        """The thread ended: close what it used."""
        self._disconnect()
        with self._lock:
            for fd in (self._wake_read, self._wake_write):
                if fd is not None:
                    os.close(fd)
            self._wake_read = self._wake_write = None

    # --- fed by the source thread ---------------------------------------------------------------

    def _record(self, after: int, upto: int, rooms: frozenset | None,
                users: frozenset | None) -> None:
        change = _Change(after, upto, rooms, users)
        with self._lock:
            self._changes.append(change)
            self.latest = upto
            for waiter in list(self._waiters):
                if upto > waiter.above and change.concerns(waiter.rooms, waiter.users):
                    waiter.event.set()
                    self._waiters.discard(waiter)

    def _observe_position(self, position: int) -> None:
        """The counter read directly: fill a gap we heard nothing about, or notice a reset."""
        if self.latest is None or position < self.latest:
            self.reset(position)
        elif position > self.latest:
            self._record(self.latest, position, None, None)

    def reset(self, position: int) -> None:
        """The database's counter is below what we knew (it was recreated): start over."""
        with self._lock:
            _next_epoch()
            self._changes.clear()
            self.latest = position
            for waiter in self._waiters:
                waiter.event.set()
            self._waiters.clear()

    # --- used by requests -----------------------------------------------------------------------

    def _concerned_since(self, above: int, rooms, users) -> bool:
        if self.latest is None or self.latest <= above:
            return False
        if not self._changes or self._changes[0].after > above:
            return True  # no record of part of (above, latest]: assume it matters
        for change in reversed(self._changes):
            if change.upto <= above:
                return False
            if change.concerns(rooms, users):
                return True
        return False

    def wait_heard(self, position: int, timeout_s: float) -> bool:
        """Wait until this listener has heard of ``position``; False when it did not in time."""
        waiter = _Waiter(position - 1, None, None)
        with self._lock:
            if self.stopped:
                return False
            if self.latest is not None and self.latest >= position:
                return True
            self._waiters.add(waiter)
        try:
            waiter.event.wait(timeout_s)
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        latest = self.latest
        return not self.stopped and latest is not None and latest >= position

    def quiet_position(self, at_least: int, checks) -> int | None:
        with self._lock:
            latest = self.latest
            if self.stopped or latest is None or latest < at_least:
                return None
            for above, rooms, users in checks:
                if above > latest or self._concerned_since(above, rooms, users):
                    return None
            return latest

    def wait(self, above: int, timeout_s: float, rooms, users,
             event: threading.Event | None = None) -> bool:
        waiter = _Waiter(above, rooms, users, event)
        with self._lock:
            if self.stopped or self._concerned_since(above, rooms, users):
                return True
            self._waiters.add(waiter)
        if self.latest is None:
            # No source yet: re-check now and then rather than sleeping through a write.
            timeout_s = min(timeout_s, RECONNECT_DELAY_S)
        try:
            return waiter.event.wait(timeout_s)
        finally:
            with self._lock:
                self._waiters.discard(waiter)

    # --- the source -----------------------------------------------------------------------------

    def _run_forever(self, stop: threading.Event) -> None:
        delay = RECONNECT_DELAY_S
        try:
            while not stop.is_set():
                try:
                    if not self._connected():
                        self._connect()
                        delay = RECONNECT_DELAY_S
                    self._listen(stop)
                except Exception as exc:  # noqa: BLE001 - keep the thread alive whatever happens
                    # Waiters fall back to re-checking every RECONNECT_DELAY_S meanwhile.
                    if delay == RECONNECT_DELAY_S and not stop.is_set():
                        logger.warning("stream listener lost its database (%s); reconnecting",
                                       exc)
                    self._disconnect()
                    self.latest = None
                    stop.wait(delay)
                    delay = min(delay * 2, MAX_RECONNECT_DELAY_S)
        finally:
            self._release()

    @abc.abstractmethod
    def _connect(self) -> None:
        ...

    @abc.abstractmethod
    def _connected(self) -> bool:
        ...

    @abc.abstractmethod
    def _disconnect(self) -> None:
        ...

    @abc.abstractmethod
    def _listen(self, stop: threading.Event) -> None:
        """Feed ``_record`` until ``stop`` is set (return) or the source fails (raise)."""


class _PostgresListener(_Listener):
    def __init__(self, dbname: str, params: dict):
        self._dbname = dbname
        self._params = params
        self._conn = None
        super().__init__()

    def _connect(self) -> None:
        import psycopg2

        conn = psycopg2.connect(dbname=self._dbname, **self._params)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {streams.NOTIFY_CHANNEL}")
        self._conn = conn
        # Listening before reading: nothing committed after this read can go unheard.
        self._observe_position(self._read_counter())

    def _connected(self) -> bool:
        return self._conn is not None and not self._conn.closed

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._conn = None

    def _read_counter(self) -> int:
        with self._conn.cursor() as cur:
            cur.execute("SELECT position FROM stream_counter WHERE id = 1")
            row = cur.fetchone()
        return row[0] if row else 0

    def _listen(self, stop: threading.Event) -> None:
        conn = self._conn
        next_check = time.monotonic() + POSTGRES_SAFETY_POLL_S
        while not stop.is_set():
            readable, _, _ = select.select([conn, self._wake_read], [], [],
                                           max(0.0, next_check - time.monotonic()))
            if stop.is_set():
                return
            if readable:
                conn.poll()
                while conn.notifies:
                    self._on_notify(conn.notifies.pop(0).payload)
            if time.monotonic() >= next_check:
                self._observe_position(self._counter_after_notifications(conn))
                next_check = time.monotonic() + POSTGRES_SAFETY_POLL_S

    def _counter_after_notifications(self, conn) -> int:
        """The counter, once the notifications of the commits it shows had a moment to arrive:
        a position learnt from the counter concerns everyone, one from a NOTIFY only those it
        names (so a quiet /sync is not sent down the full path by a safety read)."""
        position = self._read_counter()
        deadline = time.monotonic() + POSTGRES_NOTIFY_GRACE_S
        while (self.latest is not None and position > self.latest
               and time.monotonic() < deadline):
            if select.select([conn], [], [], max(0.0, deadline - time.monotonic()))[0]:
                conn.poll()
                while conn.notifies:
                    self._on_notify(conn.notifies.pop(0).payload)
        return position

    def _on_notify(self, payload: str) -> None:
        try:
            position, rooms, users = streams.parse_notify_payload(payload)
        except (ValueError, KeyError, TypeError):
            logger.warning("ignoring malformed stream notification %r", payload)
            return
        latest = self.latest
        if latest is None:
            self._record(position - 1, position, None, None)
        elif position > latest:
            if position - 1 > latest:
                # Notifications arrive in commit order, so a gap means some were missed.
                self._record(latest, position - 1, None, None)
            self._record(position - 1, position, rooms, users)


class _SqliteListener(_Listener):
    def __init__(self, path: str):
        self._path = path
        self._conn: sqlite3.Connection | None = None
        try:
            self._bell: doorbell.Bell | None = doorbell.Bell(path)
        except OSError as exc:
            logger.warning("no doorbell for %s (%s): polling only", path, exc)
            self._bell = None
        super().__init__()

    def _connect(self) -> None:
        # mode=rw: never create a database file that is not there.
        conn = sqlite3.connect(f"file:{pathname2url(self._path)}?mode=rw", uri=True, timeout=5,
                               isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA query_only = 1")
        self._conn = conn
        self._observe_position(self._read_counter())

    def _connected(self) -> bool:
        return self._conn is not None

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._conn = None

    def _read_counter(self) -> int:
        row = self._conn.execute("SELECT position FROM stream_counter WHERE id = 1").fetchone()
        return row[0] if row else 0

    def _listen(self, stop: threading.Event) -> None:
        fast_until = 0.0
        sources = [self._wake_read] + ([self._bell] if self._bell is not None else [])
        idle_poll_s = SQLITE_POLL_S if self._bell is not None else SQLITE_POLL_WITHOUT_BELL_S
        while not stop.is_set():
            fast = time.monotonic() < fast_until
            timeout = SQLITE_FAST_POLL_S if fast else idle_poll_s
            readable = select.select(sources, [], [], timeout)[0]
            if stop.is_set():
                return
            if self._bell is not None and self._bell in readable:
                # A write is about to commit somewhere on this host: look often for a moment.
                self._bell.drain()
                fast_until = time.monotonic() + SQLITE_FAST_WINDOW_S
            position = self._read_counter()
            latest = self.latest
            if latest is None or position < latest:
                self.reset(position)
            elif position > latest:
                rooms, users = self._hints(latest, position)
                self._record(latest, position, rooms, users)

    def _release(self) -> None:
        super()._release()
        if self._bell is not None:
            self._bell.close()

    def _hints(self, after: int, upto: int) -> tuple[frozenset | None, frozenset | None]:
        import json

        rows = self._conn.execute(
            "SELECT rooms, users FROM stream_wake_hint WHERE position > ? AND position <= ?",
            (after, upto)).fetchall()
        if len(rows) != upto - after:
            return None, None  # some position came without a hint: it concerns everyone
        rooms, users = set(), set()
        for room_list, user_list in rows:
            rooms.update(json.loads(room_list))
            users.update(json.loads(user_list))
        return frozenset(rooms), frozenset(users)


_listeners: dict[tuple, _Listener] = {}
_listeners_lock = threading.Lock()


def _database_key() -> tuple:
    db = database.obj
    if isinstance(db, peewee.PostgresqlDatabase):
        params = {k: v for k, v in db.connect_params.items() if v is not None}
        return ("postgresql", db.database, tuple(sorted(params.items())))
    return ("sqlite", os.path.abspath(db.database))


def _listener() -> _Listener:
    # Keyed by process id too: after a fork the parent's thread does not exist in the child.
    key = (os.getpid(),) + _database_key()
    listener = _listeners.get(key)
    if listener is None or listener.stopped:
        with _listeners_lock:
            listener = _listeners.get(key)
            if listener is None or listener.stopped:
                if key[1] == "postgresql":
                    listener = _PostgresListener(key[2], dict(key[3]))
                else:
                    listener = _SqliteListener(key[2])
                if not listener.stopped:
                    _listeners[key] = listener
                else:
                    _listeners.pop(key, None)
    return listener


def start_listener() -> None:
    """Start this process's listener for the current database now (services/workers.py, at the
    first request), so that the first long-poll does not pay for its connection."""
    _listener()


def wait_for_position_above(position: int, timeout_s: float, *,
                            rooms=None, users=None,
                            event: threading.Event | None = None) -> bool:
    """Block until a stream position above ``position`` commits that concerns one of ``rooms``
    or ``users`` (both None: any position), or ``timeout_s`` passes. True when woken.
    ``event``: the caller's own (cleared) event to wait on, so that it can wake the wait too.

    May wake without anything relevant (the caller re-checks); never sleeps through a relevant
    write. Holds no database connection while blocked.
    """
    listener = _listener()
    if listener.latest is not None and listener.latest > position:
        # Cheap sanity check while we still hold a connection: a counter below what the
        # listener knows means the database was recreated, and the listener must start over.
        current = streams.current_position()
        if current < listener.latest:
            listener.reset(current)
    background.release_connection()
    rooms = frozenset(rooms) if rooms is not None else None
    users = frozenset(users) if users is not None else None
    if rooms is None and users is None:
        rooms = users = None
    return listener.wait(position, max(0.0, timeout_s), rooms, users, event)


def heard() -> int | None:
    """The newest position this process's listener has heard of (None: none yet). Read it
    before reading the counter for ``quiet_position``."""
    return _listener().latest


def quiet_position(heard_before: int | None, current: int,
                   checks: Iterable[tuple[int, Iterable[str], Iterable[str]]],
                   wait_s: float = QUIET_WAIT_S) -> int | None:
    """A position P >= ``current`` (the counter, just read; ``heard_before``: ``heard()`` just
    before reading it) such that, for each ``(above, rooms, users)`` of ``checks``, no position
    in (above, P] concerns one of ``rooms`` or ``users``; None when that cannot be told: the
    listener has no source, did not hear of ``current`` within ``wait_s`` (it hears of a commit
    within milliseconds), has no record of part of an interval, or a position in one concerns
    everyone. A counter below what the listener had heard means the database was recreated:
    the listener starts over.

    Every position at or below P has committed, and writers name whom their write concerns
    (``positions.next_position``), so a /sync of the user and rooms checked has nothing to
    send up to P.
    """
    listener = _listener()
    if heard_before is not None and current < heard_before:
        listener.reset(current)
        return None
    if not listener.wait_heard(current, wait_s):
        return None
    checks = [(above, frozenset(rooms), frozenset(users)) for above, rooms, users in checks]
    return listener.quiet_position(current, checks)
