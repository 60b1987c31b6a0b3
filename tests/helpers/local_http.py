"""The HTTP server the tests run on loopback to play a web site, a push gateway or an attacker."""

import sys
from http.server import ThreadingHTTPServer


class LocalHTTPServer(ThreadingHTTPServer):
    """Handler threads are daemons, and a client that hangs up before the answer is not an error.

    The server under test gives up on slow peers on purpose. Python's default prints a traceback
    from the handler thread then; on CPython 3.11 that formatting parses source with ``ast``, which
    is not safe beside the main thread's own parsing (pytest's assertion rewriting) and can fail an
    unrelated test with "AST constructor recursion depth mismatch".
    """

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)
