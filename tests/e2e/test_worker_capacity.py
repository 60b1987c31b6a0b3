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
import select
import signal

import requests

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


def test_idle_kept_alive_connection_makes_room_for_a_new_one(start_gunicorn):
    # One worker, two threads: a held long-poll and an idle kept-alive connection fill it.
    server = start_gunicorn(workers=1, gunicorn_args=["--threads", "2"],
                            metrics={"enabled": True}, presence={"enabled": False})
    user = register(server.base_url)
    since = call("GET", f"{server.base_url}/_matrix/client/v3/sync", user["access_token"],
                 params={"timeout": "0"})["next_batch"]
    idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    poll = open_long_poll(server, user["access_token"], since)
    try:
        assert wait_until(lambda: long_polls_held(server.base_url) == 1)
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
