"""Fixtures shared by the attack tests (``room`` and the users are in tests/conftest.py)."""

import signal

import pytest


class Hang(BaseException):
    """Raised by ``cpu_guard``: BaseException, so no error handler turns it into a response."""


@pytest.fixture
def cpu_guard():
    """Turns a hang (an attack the old code never finished) into a failure after 120 s of CPU;
    a guard, not a timing assertion: the fixed code needs milliseconds."""
    def interrupt(signum, frame):
        raise Hang("the request did not finish within 120 CPU seconds")
    previous = signal.signal(signal.SIGPROF, interrupt)
    signal.setitimer(signal.ITIMER_PROF, 120)
    yield
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.signal(signal.SIGPROF, previous)
