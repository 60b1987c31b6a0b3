"""This process's background threads: the stream listener (streams/notifier.py), the
typing/presence expiry sweep (ephemeral/expiry.py), the push dispatcher and its delivery pool
(push/sender.py) and the pending-leaves sweep (accounts/deactivation.py).

Threads are started lazily, in the process that needs them: create_app's first request in each
process (services/workers.py) starts those that have work, and a write that makes some starts
them too. Under gunicorn the workers fork from the master; a thread of the master would not
exist in a worker, so nothing is started before a worker serves its first request, and every
record here is per process id.

Every thread belongs to a generation with one stop event, which it receives as its first
argument and sleeps on (``stop.wait(seconds)``) instead of ``time.sleep``; ``stop_all`` sets
it, runs the stop callbacks (which wake threads blocked elsewhere), joins the threads within a
bound and opens a new generation, so threads start again when next needed (tests stop them with
their app; gunicorn's ``worker_exit`` stops them with the worker).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from ..db import database

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 5.0


class _Generation:
    def __init__(self):
        self.pid = os.getpid()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.callbacks: list[Callable[[], None]] = []


_lock = threading.Lock()
_current = _Generation()


def _generation() -> _Generation:
    """This process's generation (a forked child starts its own: the parent's threads are not
    in it). Called with ``_lock`` held."""
    global _current
    if _current.pid != os.getpid():
        _current = _Generation()
    return _current


def _prune(generation: _Generation) -> None:
    # Threads that ended (a sweep with nothing left, an idle pool's worker) are forgotten.
    generation.threads = [t for t in generation.threads if t.ident is None or t.is_alive()]


def start(name: str, target: Callable[..., None], *args) -> threading.Thread | None:
    """Run ``target(stop, *args)`` in a new daemon thread; ``stop`` is the generation's stop
    event. None (nothing started) while ``stop_all`` is stopping this generation."""
    with _lock:
        generation = _generation()
        if generation.stop.is_set():
            return None
        thread = threading.Thread(target=target, args=(generation.stop, *args), name=name,
                                  daemon=True)
        thread.hs_stop = generation.stop
        _prune(generation)
        generation.threads.append(thread)
    thread.start()
    return thread


def alive(thread: threading.Thread | None) -> bool:
    """Whether ``thread`` (from ``start``) still runs in this process and is not stopping."""
    return (thread is not None and thread.is_alive()
            and not getattr(thread, "hs_stop", _current.stop).is_set())


def adopt() -> threading.Event:
    """Count the calling thread (e.g. a pool's worker, as its initializer) among the threads
    ``stop_all`` joins; returns the generation's stop event."""
    with _lock:
        generation = _generation()
        _prune(generation)
        generation.threads.append(threading.current_thread())
        return generation.stop


def on_stop(callback: Callable[[], None]) -> bool:
    """Call ``callback`` when this generation stops, e.g. to wake a thread blocked on
    something other than the stop event. False (and not registered) if already stopping."""
    with _lock:
        generation = _generation()
        if generation.stop.is_set():
            return False
        generation.callbacks.append(callback)
        return True


def stop_all(timeout_s: float = STOP_TIMEOUT_S) -> list[str]:
    """Stop this process's background threads: signal, wake, join (at most ``timeout_s`` in
    all). Returns the names of threads still alive after that (normally none)."""
    global _current
    with _lock:
        generation = _generation()
        generation.stop.set()
        callbacks = list(generation.callbacks)
    for callback in callbacks:
        try:
            callback()
        except Exception:  # noqa: BLE001 - stopping goes on whatever one callback does
            logger.exception("stopping a background worker failed")
    deadline = time.monotonic() + timeout_s
    me = threading.current_thread()
    with _lock:
        threads = list(generation.threads)
    for thread in threads:
        if thread is not me and thread.ident is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
    left = [thread.name for thread in threads if thread is not me and thread.is_alive()]
    if left:
        logger.warning("background threads still running after stop: %s", ", ".join(left))
    with _lock:
        if _current is generation:
            _current = _Generation()
    return left


def running() -> list[threading.Thread]:
    """This process's background threads that are alive (for tests and diagnostics)."""
    with _lock:
        return [thread for thread in _generation().threads if thread.is_alive()]


class Worker:
    """One named background thread per process, started when needed: the one way the stream
    listener's peers (expiry sweep, push sender, pending-leaves sweep) start.

    ``ensure_running(*args)`` starts ``target(stop, *args)`` unless this process's thread is
    alive; ``prepare`` (optional) runs first, under the worker's lock, and returns the args, or
    None to start nothing. ``done_if(condition)``, from the worker's own thread, ends it when
    ``condition()`` holds, under the same lock, so a concurrent ``ensure_running`` (after new
    work) starts a new thread instead of counting on the one that is leaving.
    """

    def __init__(self, name: str, target: Callable[..., None]):
        self.name = name
        self._target = target
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self, *args, prepare: Callable[[], tuple | None] | None = None) -> None:
        if alive(self._thread):
            return
        with self._lock:
            if alive(self._thread):
                return
            if prepare is not None:
                prepared = prepare()
                if prepared is None:
                    return
                args = prepared
            self._thread = start(self.name, self._target, *args)

    def done_if(self, condition: Callable[[], bool]) -> bool:
        with self._lock:
            if not condition():
                return False
            if self._thread is threading.current_thread():
                self._thread = None
            return True


def release_connection() -> None:
    """Return this thread's database connection to the pool between rounds of a loop (it
    reconnects on its next query); kept while a transaction is open."""
    conn = database.obj
    if conn is not None and not conn.is_closed() and not conn.in_transaction():
        conn.close()


def run_every(stop: threading.Event, interval_s: float, failures: "FailureLog",
              step: Callable[[], bool | None]) -> None:
    """A sweep's loop: ``step()`` every ``interval_s`` until stopped, or until it returns True
    (nothing left to do); a failure is logged through ``failures`` and the loop goes on."""
    while not stop.wait(interval_s):
        try:
            done = step()
            failures.succeeded()
            if done:
                return
        except Exception as exc:  # noqa: BLE001 - the sweep must outlive any one failure
            failures.failed(exc, stop)
        finally:
            release_connection()


class FailureLog:
    """A loop's failures, logged without a storm: the first failure of a kind (exception type
    and message) with its traceback, its repeats not at all until the loop succeeds again
    (``succeeded`` then logs how many there were). Nothing is logged while stopping: a failure
    then is the shutdown's doing."""

    def __init__(self, log: logging.Logger, what: str):
        self._log = log
        self._what = what
        self._kinds: set[tuple[str, str]] = set()
        self._failures = 0

    def failed(self, exc: BaseException, stop: threading.Event | None = None) -> None:
        if stop is not None and stop.is_set():
            return
        self._failures += 1
        kind = (type(exc).__name__, str(exc).strip().split("\n", 1)[0])
        if kind in self._kinds:
            self._log.debug("%s failed again: %s: %s", self._what, *kind)
            return
        self._kinds.add(kind)
        self._log.error("%s failed", self._what, exc_info=exc)

    def succeeded(self) -> None:
        if self._failures:
            self._log.warning("%s works again after %d failures", self._what, self._failures)
            self._failures = 0
            self._kinds.clear()
