"""Real-time delivery across servers: two separate gunicorn deployments (each with several worker
processes) on one database, as two hosts behind a load balancer would be. A message sent through
one wakes a /sync long-poll held on the other (PostgreSQL: LISTEN/NOTIFY; SQLite, one host: the
listener's poll of the stream position): the long-poll answers with the message long before its
own timeout could end it, and the messages arrive in the order they were sent.
"""

import threading
import time

import pytest

from helpers.gunicorn_server import GunicornServer
from helpers.remote import call, metric_value, register
from helpers.waiting import wait_until

ROUNDS = 5
SERVER_NAME = "localhost:8008"
# The long-poll's timeout (the server's cap) is twice the time the test waits for its answer,
# so an answer within the wait came from the message, not from the timeout running out.
LONG_POLL_TIMEOUT_MS = 120_000
ANSWER_WAIT_S = 60


@pytest.fixture
def two_servers(database_url, tmp_path):
    servers = []
    try:
        for name in ("a", "b"):
            server = GunicornServer(database_url, tmp_path / name, workers=2,
                                    server_name=SERVER_NAME, metrics={"enabled": True})
            servers.append(server.start())
        yield servers
    finally:
        for server in servers:
            server.stop()


def alice_and_bob_in_a_room(a, b) -> tuple[dict, dict, str, str]:
    """Alice (on server ``a``) and Bob (on ``b``) in a public room of Alice's; Bob's since."""
    alice, bob = register(a.base_url), register(b.base_url)
    room = call("POST", f"{a.base_url}/_matrix/client/v3/createRoom", alice["access_token"],
                json={"preset": "public_chat"})["room_id"]
    call("POST", f"{b.base_url}/_matrix/client/v3/join/{room}", bob["access_token"], json={})
    since = call("GET", f"{b.base_url}/_matrix/client/v3/sync",
                 bob["access_token"])["next_batch"]
    return alice, bob, room, since


def long_polls_held(base_url: str) -> float:
    """homeserver_sync_long_polls_held, summed over the server's workers."""
    return metric_value(base_url, "homeserver_sync_long_polls_held")


def test_message_reaches_long_poll_on_other_server(two_servers):
    alice, bob, room, since = alice_and_bob_in_a_room(*two_servers)
    client_a = f"{two_servers[0].base_url}/_matrix/client/v3"
    client_b = f"{two_servers[1].base_url}/_matrix/client/v3"

    sent = []
    for round_number in range(ROUNDS):
        result = {}

        def hold_sync():
            result["body"] = call("GET", f"{client_b}/sync", bob["access_token"],
                                  params={"since": since, "timeout": str(LONG_POLL_TIMEOUT_MS)})

        poll = threading.Thread(target=hold_sync, daemon=True)
        poll.start()
        # Send once the long-poll waits on server B (or has answered: the assertion then says so).
        wait_until(lambda: long_polls_held(two_servers[1].base_url) >= 1 or not poll.is_alive())
        assert poll.is_alive(), result.get("body")
        event_id = call("PUT", f"{client_a}/rooms/{room}/send/m.room.message/txn{round_number}",
                        alice["access_token"],
                        json={"msgtype": "m.text", "body": f"round {round_number}"})["event_id"]
        poll.join(ANSWER_WAIT_S)
        assert not poll.is_alive(), "the message did not wake the long-poll on the other server"
        timeline = result["body"]["rooms"]["join"][room]["timeline"]["events"]
        assert [event["event_id"] for event in timeline] == [event_id]
        sent.append(event_id)
        since = result["body"]["next_batch"]

    # Both servers give the room's history in the order the messages were sent.
    for client in (client_a, client_b):
        chunk = call("GET", f"{client}/rooms/{room}/messages", bob["access_token"],
                     params={"dir": "f", "limit": "50"})["chunk"]
        assert [event["event_id"] for event in chunk if event["type"] == "m.room.message"] == sent


def test_quiet_syncs_on_the_other_server_lose_nothing(two_servers):
    """bob polls server B with timeout=0 while others write through server A, most of it in a
    room of their own: the many nothing-new answers (built from the stream listener's record of
    what each position concerns) move bob's token on, and still every message and to-device
    message for him arrives, once and in order."""
    alice, bob, room, since = alice_and_bob_in_a_room(*two_servers)
    client_a = f"{two_servers[0].base_url}/_matrix/client/v3"
    client_b = f"{two_servers[1].base_url}/_matrix/client/v3"
    dave = register(two_servers[0].base_url)
    elsewhere = call("POST", f"{client_a}/createRoom", dave["access_token"], json={})["room_id"]

    sent_events, sent_to_device = [], []

    def write():
        for n in range(ROUNDS * 4):
            call("PUT", f"{client_a}/rooms/{elsewhere}/send/m.room.message/busy{n}",
                 dave["access_token"], json={"msgtype": "m.text", "body": f"busy {n}"})
            if n % 4 == 3:
                sent_events.append(call(
                    "PUT", f"{client_a}/rooms/{room}/send/m.room.message/txn{n}",
                    alice["access_token"], json={"msgtype": "m.text", "body": f"{n}"})["event_id"])
                call("PUT", f"{client_a}/sendToDevice/m.test/td{n}", alice["access_token"],
                     json={"messages": {bob["user_id"]: {bob["device_id"]: {"n": n}}}})
                sent_to_device.append(n)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    got_events, got_to_device, quiet = [], [], 0
    until = time.monotonic() + ANSWER_WAIT_S
    while time.monotonic() < until:
        done = not writer.is_alive()
        body = call("GET", f"{client_b}/sync", bob["access_token"],
                    params={"since": since, "timeout": "0"})
        timeline = body["rooms"]["join"].get(room, {}).get("timeline", {}).get("events", [])
        got_events += [e["event_id"] for e in timeline if e["type"] == "m.room.message"]
        got_to_device += [e["content"]["n"] for e in body["to_device"]["events"]]
        assert elsewhere not in body["rooms"]["join"]
        if not timeline and not body["to_device"]["events"]:
            quiet += 1
        since = body["next_batch"]
        if done and len(got_events) >= len(sent_events) \
                and len(got_to_device) >= len(sent_to_device):
            break
    writer.join(ANSWER_WAIT_S)
    assert got_events == sent_events
    assert got_to_device == sent_to_device
    assert quiet > 0
