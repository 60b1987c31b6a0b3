"""Waiting for something another thread or process does: poll a condition, never sleep a guess."""

import time


def wait_until(condition, timeout_s: float = 30.0):
    """Poll ``condition()`` until it is truthy; return its last value. The timeout only bounds a
    failing test: the condition decides, so a slow machine is no reason to fail."""
    deadline = time.monotonic() + timeout_s
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result or condition()
