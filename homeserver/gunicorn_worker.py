"""gunicorn's threaded worker (gthread), but a worker accepts a connection only when it has a
thread to serve it (gunicorn.conf.py selects it: ``worker_class``).

Why: a /sync long-poll holds its thread for up to its timeout. gunicorn's ThreadWorker accepts
while it has fewer than ``worker_connections`` (1000) connections, kept-alive ones included,
whatever its ``threads`` (640) are doing; a worker whose threads all hold long-polls still
accepted, and the request it accepted waited in its thread pool's queue until some long-poll
timed out (30 s), while the other worker had threads free (docs/performance.md, "Idle
long-polls"). Lowering ``worker_connections`` to ``threads`` would stop that, but gunicorn then
turns keep-alive off (it keeps ``worker_connections - threads`` kept-alive connections at most).

Here a worker serves at most ``min(threads, worker_connections)`` connections at once, counting
those kept alive between requests, so every request it accepted has a thread the moment it
arrives, on a new connection or a kept-alive one. A worker that has no room stops listening and
the kernel's accept queue hands new connections to a worker that has (or holds them until one
has: never into a queue behind long-polls). Room held only by idle kept-alive connections is
taken back: a new connection closes the one idle longest (a client reconnects for its next
request, as after the keep-alive timeout). A connection that has sent nothing yet holds no
thread either (gunicorn hands it back to the poller after its data timeout): it counts as idle
too, so connections opened and left silent cannot fill a worker.

On a graceful stop, held long-polls answer at once (``handle_exit``).

A thread that answered a kept-alive request waits a little (``NEXT_REQUEST_WAIT_S``) for the
same connection's next request and serves it itself: a client syncing in a loop, or
re-issuing a long-poll that timed out, sends it within milliseconds. Handing the connection
back to the event loop and on to a thread again for it costs two thread wake-ups and the
poller's bookkeeping, about a quarter of the CPU of a small request (docs/performance.md).
"""

from __future__ import annotations

from gunicorn.workers import gthread

from .services.streams.long_polls import registry as long_polls


# How long a thread waits for a kept-alive connection's next request before handing the
# connection back to the event loop. Short: the connection counts as busy meanwhile.
NEXT_REQUEST_WAIT_S = 0.05


class ThreadWorker(gthread.ThreadWorker):

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = max(1, min(self.cfg.threads, self.cfg.worker_connections))
        # The base class's limits, neutralised: ``set_accept_enabled`` decides whether to
        # accept, and a kept-alive connection already counts among the ``capacity``.
        self.worker_connections = self.capacity + 1
        self.max_keepalived = self.capacity + 1

    @classmethod
    def check_config(cls, cfg, log):
        # The base class warns that keep-alive is off when threads >= worker_connections; here
        # it is not.
        pass

    def handle_exit(self, sig, frame):
        # A graceful stop (SIGTERM: a restart, a deploy) waits for the requests in flight, up
        # to ``graceful_timeout``: held long-polls answer now instead of at their timeout (a
        # client syncs again, against the next server). Runs in the main thread, which never
        # holds the registry's lock (requests run in the pool's threads).
        super().handle_exit(sig, frame)
        long_polls.answer_all()

    def handle(self, conn):
        keep_alive = super().handle(conn)
        while keep_alive is True and self.alive and self._next_request_arrives(conn):
            keep_alive = super().handle(conn)
        if keep_alive is False and conn.sock.fileno() != -1:
            # Closing, gunicorn waits up to 2 s for the client to close its side (RFC 9112,
            # 9.6), in ``finish_request``, i.e. in the event loop that every other connection
            # of the worker waits on: after each request nginx proxies (its default upstream
            # ``Connection: close``), and for as long as a client leaves its side open. Here the
            # wait is this connection's own thread's.
            conn.close(graceful=True)
        return keep_alive

    @staticmethod
    def _next_request_arrives(conn) -> bool:
        """Whether the connection's next request (or its close) arrives within the wait."""
        if conn.is_http2:
            return False
        if conn.parser.unreader.buf.getvalue():
            return True  # read ahead with the last request's body
        # gunicorn's own wait for a new connection's first request, made to wait again.
        conn.data_ready = False
        return conn.wait_for_data(NEXT_REQUEST_WAIT_S)

    def finish_request(self, conn, fs):
        if conn.sock.fileno() == -1:
            # Closed in its thread (above, or gunicorn's own error path): counted out once.
            self.nr_conns -= 1
            return
        super().finish_request(conn, fs)

    def _idle(self) -> int:
        """Connections holding no thread: kept alive between requests, or new ones that sent
        nothing within gunicorn's data timeout (``pending_conns``, waiting on the poller)."""
        return len(self.keepalived_conns) + len(self.pending_conns)

    def _busy(self) -> int:
        """Connections with a request in flight or arriving."""
        return self.nr_conns - self._idle()

    def set_accept_enabled(self, enabled):
        # The base class's loop calls this whenever its own test (the number of connections
        # below ``worker_connections``, always true here while running) differs from whether
        # the worker listens, i.e. on each turn while it does not: room is looked at again
        # after every event (a request finishing is one).
        super().set_accept_enabled(enabled and self._busy() < self.capacity)

    def accept(self, listener):
        if self._busy() >= self.capacity:
            # A kept-alive connection's request took the last room since the last turn.
            super().set_accept_enabled(False)
            return
        super().accept(listener)
        while self.nr_conns > self.capacity and self._idle():
            self._close_idle_longest()
        if self._busy() >= self.capacity:
            super().set_accept_enabled(False)

    def _close_idle_longest(self) -> None:
        # Each queue is in the order its connections went idle (their timeouts).
        idle = min((queue for queue in (self.keepalived_conns, self.pending_conns) if queue),
                   key=lambda queue: queue[0].timeout)
        conn = idle.popleft()
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        self.nr_conns -= 1
        conn.close()

    # The poller may have reported an idle connection readable (its next request, or its
    # first, arriving) in the same turn of the loop in which ``accept`` closed it for a new
    # connection: that event is stale. Handling it crashed the worker ("Invalid file
    # descriptor: -1"); the client sees its connection closed, as when a keep-alive timeout
    # crosses a request.

    def on_client_socket_readable(self, conn, client):
        if client.fileno() != -1:
            super().on_client_socket_readable(conn, client)

    def on_pending_socket_readable(self, conn, client):
        if client.fileno() != -1:
            super().on_pending_socket_readable(conn, client)
