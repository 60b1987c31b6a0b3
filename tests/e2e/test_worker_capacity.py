"""Real gunicorn with the homeserver's worker class (homeserver/gunicorn_worker.py): a worker
accepts a connection only when it has a thread for it, so long-polls held by one worker never
make another request wait behind them while another worker has threads free; keep-alive still
works, and idle kept-alive connections give their room to new ones.

The servers run with tiny thread pools (``--threads``) so that a handful of long-polls fill a
worker. Nothing here is timed: each test checks what is answered before what.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import time

import requests

from homeserver.gunicorn_worker import NEXT_REQUEST_WAIT_S

from helpers.remote import call, metric_value, register
from helpers.waiting import wait_until

# Long-polls last up to the server's cap (120 s): none ends on its own during a test.
LONG_POLL_MS = 120_000


def long_polls_held(base_url: str) -> float:
    """homeserver_sync_long_polls_held, summed over the server's workers."""
    return metric_value(base_url, "homeserver_sync_long_polls_held")


def open_long_poll(server, token: str, since: str) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", f"/_matrix/client/v3/sync?since={since}&timeout={LONG_POLL_MS}",
                 headers={"Authorization": f"Bearer {token}"})
    return conn


def worker_holding_a_long_poll(start_gunicorn):
    """One worker with two threads, one of them holding a user's long-poll (presence off: it
    would wake the poll): -> (server, user, the poll's connection)."""
    server = start_gunicorn(workers=1, gunicorn_args=["--threads", "2"],
                            metrics={"enabled": True}, presence={"enabled": False})
    user = register(server.base_url)
    since = call("GET", f"{server.base_url}/_matrix/client/v3/sync", user["access_token"],
                 params={"timeout": "0"})["next_batch"]
    poll = open_long_poll(server, user["access_token"], since)
    assert wait_until(lambda: long_polls_held(server.base_url) == 1)
    return server, user, poll


def answered(conns: list[http.client.HTTPConnection]) -> list[http.client.HTTPConnection]:
    """The connections with (the start of) an answer waiting to be read, without blocking."""
    readable = select.select([conn.sock for conn in conns], [], [], 0)[0]
    return [conn for conn in conns if conn.sock in readable]


def test_request_answered_while_one_worker_holds_more_long_polls_than_its_threads(
        start_gunicorn):
    # 2 workers x 4 threads: 7 long-polls are more than one worker can hold, fewer than both.
    # Presence off: a user's first long-poll marks them online, which would wake the others.
    server = start_gunicorn(workers=2, gunicorn_args=["--threads", "4"],
                            metrics={"enabled": True}, presence={"enabled": False})
    client = f"{server.base_url}/_matrix/client/v3"
    users = [register(server.base_url) for _ in range(7)]
    room = call("POST", f"{client}/createRoom", users[0]["access_token"],
                json={"preset": "public_chat"})["room_id"]
    for user in users[1:]:
        call("POST", f"{client}/join/{room}", user["access_token"], json={})
    sinces = [call("GET", f"{client}/sync", user["access_token"],
                   params={"timeout": "0"})["next_batch"] for user in users]

    polls = [open_long_poll(server, user["access_token"], since)
             for user, since in zip(users, sinces)]
    try:
        # Every long-poll has a thread and waits: a worker that had accepted more than its
        # four threads can hold would leave the rest queued, not waiting (never counted).
        assert wait_until(lambda: long_polls_held(server.base_url) == 7), \
            long_polls_held(server.base_url)
        # Another request is answered while all seven still wait.
        versions = requests.get(f"{server.base_url}/_matrix/client/versions", timeout=60)
        assert versions.status_code == 200
        assert answered(polls) == []
        # And the held polls are live: a message wakes every one of them.
        event_id = call("PUT", f"{client}/rooms/{room}/send/m.room.message/t1",
                        users[0]["access_token"],
                        json={"msgtype": "m.text", "body": "hello"})["event_id"]
        for poll in polls:
            response = poll.getresponse()
            assert response.status == 200
            timeline = json.loads(response.read())["rooms"]["join"][room]["timeline"]
            assert event_id in [event["event_id"] for event in timeline["events"]]
    finally:
        for poll in polls:
            poll.close()


def test_kept_alive_connection_serves_the_next_request(start_gunicorn):
    server = start_gunicorn(workers=1, gunicorn_args=["--threads", "2"])
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", "/_matrix/client/versions")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        assert not first.will_close, first.getheader("Connection")
        sock = conn.sock
        conn.request("GET", "/_matrix/client/versions")
        second = conn.getresponse()
        second.read()
        assert second.status == 200
        assert conn.sock is sock  # the same connection, not a new one
    finally:
        conn.close()


def voluntary_switches(pid: int) -> int:
    """How many times the process's main thread (a worker's event loop) went to sleep."""
    with open(f"/proc/{pid}/task/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


def test_next_request_on_a_kept_alive_connection_skips_the_event_loop(start_gunicorn):
    """A client sending its next request right after an answer (a sync loop, a re-issued
    long-poll) is served by the thread that answered it: the worker's event loop is not woken
    twice per request to take the connection back and hand it to a thread again. Before, it
    slept and woke at least twice per request; now only for its own 1 s timer."""
    server = start_gunicorn(workers=1, gunicorn_args=["--threads", "2"],
                            presence={"enabled": False})
    worker = worker_pid(server)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("GET", "/_matrix/client/versions")
        conn.getresponse().read()
        before = voluntary_switches(worker)
        for _ in range(100):
            conn.request("GET", "/_matrix/client/versions")
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and not response.will_close
        woken = voluntary_switches(worker) - before
    finally:
        conn.close()
    assert woken < 50, woken


def test_idle_kept_alive_connection_makes_room_for_a_new_one(start_gunicorn):
    # A held long-poll and an idle kept-alive connection fill the worker's two threads.
    server, user, poll = worker_holding_a_long_poll(start_gunicorn)
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        idle.request("GET", "/_matrix/client/versions")
        response = idle.getresponse()
        response.read()
        assert response.status == 200 and not response.will_close
        # A new connection is served: the idle one gave up its room (closed by the server),
        # the long-poll kept its thread.
        versions = requests.get(f"{server.base_url}/_matrix/client/versions", timeout=60)
        assert versions.status_code == 200
        assert select.select([idle.sock], [], [], 60)[0] == [idle.sock]
        assert idle.sock.recv(1) == b""  # closed, nothing sent
        assert answered([poll]) == []
        # The long-poll is still live: the user's new room wakes it (and the server's
        # graceful stop then has no request to wait for).
        call("POST", f"{server.base_url}/_matrix/client/v3/createRoom", user["access_token"],
             json={})
        assert poll.getresponse().status == 200
    finally:
        idle.close()
        poll.close()


def test_connection_left_silent_makes_room_for_a_new_one(start_gunicorn):
    """A connection that never sends its request holds a thread only for gunicorn's data
    timeout (5 s); then it waits on the poller and counts as idle, so it cannot fill a worker
    (slowloris): a new connection is served and the silent one is closed. Before, it counted
    as busy until the keep-alive timeout (75 s)."""
    server, _, poll = worker_holding_a_long_poll(start_gunicorn)
    silent = None
    try:
        silent = socket.create_connection(("127.0.0.1", server.port), timeout=60)
        versions = requests.get(f"{server.base_url}/_matrix/client/versions", timeout=60)
        assert versions.status_code == 200
        assert silent.recv(1) == b""  # closed for the new one, nothing sent
        assert answered([poll]) == []
    finally:
        if silent is not None:
            silent.close()
        poll.close()


def worker_pid(server) -> int:
    """The pid of the server's only worker (a child of gunicorn's master)."""
    master = server.process.pid
    with open(f"/proc/{master}/task/{master}/children", encoding="ascii") as children:
        (pid,) = children.read().split()
    return int(pid)


def waiting_for_events(pid: int) -> bool:
    """Whether the process's main thread (a worker's event loop) sleeps in epoll_wait."""
    with open(f"/proc/{pid}/wchan", encoding="ascii") as wchan:
        return "epoll" in wchan.read()


def first_bytes_or_reset(sock: socket.socket, count: int) -> bytes | None:
    """The first bytes the server sent (b"" when it closed the connection), None when it
    reset it."""
    try:
        return sock.recv(count)
    except ConnectionResetError:
        return None


REQUEST = b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n"


def test_idle_connection_closed_for_a_new_one_while_its_next_request_arrives(start_gunicorn):
    """The worker takes a new connection and closes the idle kept-alive one for it, in the
    same turn of its loop that also reports that kept-alive connection readable (its client
    sent its next request meanwhile). Before, the worker then handled the connection it had
    just closed, crashed (ValueError: Invalid file descriptor: -1), and the server answered
    nothing until gunicorn's master noticed (CI saw 60 s timeouts).

    The worker is stopped (SIGSTOP) while both arrive, so that its next turn sees both; the
    order it sees them in is the kernel's, so the attack is made three times."""
    server, user, poll = worker_holding_a_long_poll(start_gunicorn)
    try:
        worker = worker_pid(server)
        for _ in range(3):
            idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            fresh = None
            try:
                idle.request("GET", "/_matrix/client/versions")
                first = idle.getresponse()
                first.read()
                assert first.status == 200 and not first.will_close
                # The worker is done with it (kept alive, after its thread waited for a next
                # request) and listens again.
                time.sleep(2 * NEXT_REQUEST_WAIT_S)
                assert wait_until(lambda: waiting_for_events(worker))
                os.kill(worker, signal.SIGSTOP)
                try:
                    fresh = socket.create_connection(("127.0.0.1", server.port), timeout=60)
                    fresh.sendall(REQUEST)
                    idle.sock.sendall(REQUEST)
                finally:
                    os.kill(worker, signal.SIGCONT)
                assert fresh.recv(12) == b"HTTP/1.1 200"
                # The idle connection was closed for the new one, its request unanswered (as
                # when a keep-alive timeout crosses a request: a reset, the request being
                # unread), or, when the worker saw its request first, answered.
                assert first_bytes_or_reset(idle.sock, 12) in (b"", b"HTTP/1.1 200", None)
            finally:
                idle.close()
                if fresh is not None:
                    fresh.close()
        # The worker lives on, its long-poll too.
        assert worker_pid(server) == worker
        assert long_polls_held(server.base_url) == 1
        assert answered([poll]) == []
        call("POST", f"{server.base_url}/_matrix/client/v3/createRoom", user["access_token"],
             json={})
        assert poll.getresponse().status == 200
    finally:
        poll.close()


def answered_while_another_client_has_yet_to_close(server) -> bool:
    """Whether a kept-alive connection's request is answered while the server still waits
    for another client, answered with ``Connection: close``, to close its side."""
    kept = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    closing = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    try:
        kept.request("GET", "/_matrix/client/versions")
        kept.getresponse().read()
        closing.sendall(b"GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n"
                        b"Connection: close\r\n\r\n")
        response = b""
        while chunk := closing.recv(65536):  # to the server's end of its side
            response += chunk
        assert response.startswith(b"HTTP/1.1 200")
        kept.request("GET", "/_matrix/client/versions")
        assert kept.getresponse().status == 200
        # A server still waiting reads (and drops) what comes; one done waiting has closed
        # the connection: the first byte draws a reset, the second fails.
        try:
            closing.sendall(b"x")
            closing.sendall(b"y")
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True
    finally:
        kept.close()
        closing.close()


def test_client_slow_to_close_holds_up_no_other_connection(start_gunicorn):
    """After an answer with ``Connection: close`` (each request nginx proxies, by default),
    gunicorn waits up to 2 s for the client to close its side. It waited in the worker's event
    loop, so no other connection of the worker was served meanwhile (a client that never
    closes stalled the worker 2 s per request); the wait is now the connection's own thread's.
    (Tried three times: a machine stalled for the whole 2 s would end the wait first.)"""
    server = start_gunicorn(workers=1, gunicorn_args=["--threads", "4"],
                            presence={"enabled": False})
    assert any(answered_while_another_client_has_yet_to_close(server) for _ in range(3))


def test_graceful_stop_answers_held_long_polls(start_gunicorn):
    """A restart (SIGTERM) does not wait for held long-polls to time out: they are answered
    at once, as on timeout, and the server exits. (Before, the stop waited for gunicorn's
    graceful timeout and then killed the worker: the client got no answer at all.)"""
    server = start_gunicorn(workers=1, metrics={"enabled": True}, presence={"enabled": False})
    user = register(server.base_url)
    since = call("GET", f"{server.base_url}/_matrix/client/v3/sync", user["access_token"],
                 params={"timeout": "0"})["next_batch"]
    poll = open_long_poll(server, user["access_token"], since)
    try:
        assert wait_until(lambda: long_polls_held(server.base_url) == 1)
        server.process.send_signal(signal.SIGTERM)
        response = poll.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["next_batch"]
    finally:
        poll.close()
    server.process.wait(60)
