"""The server's one wall clock: milliseconds since the Unix epoch, the unit of every ``*_ts``
field in the spec (``origin_server_ts``, expiry times, ``last_active_ago``...).

Every module reads it as ``clock.now_ms()``, through the module attribute and never as a name
imported from it, so that the tests' ``clock`` fixture moves time for all of them at once
(tests/unit/test_clock.py keeps it so). Waits and deadlines within one request (long-polls,
download and fetch timeouts) use ``time.monotonic`` instead: they measure durations, and the
wall clock may jump.
"""

import time


def now_ms() -> int:
    return int(time.time() * 1000)
