"""Attack: a user points a pusher at a gateway that answers slowly (or never). The sender posted
notifications one at a time, so every other user's pushes waited behind it. Now deliveries
run on a pool of threads with a per-gateway limit (`push.max_concurrent_per_gateway`), each
within `push.gateway_timeout_s`, and rows of a gateway at its limit wait in the table: another
gateway's notification goes out while the slow one still holds its requests.

Both gateways are real HTTP servers on 127.0.0.1 (allow-listed with `push.ip_range_allowlist`,
as a local gateway must be); the slow one holds each request until the test releases it.
"""

import http.server
import json
import threading

import pytest

from helpers.local_http import LocalHTTPServer
from helpers.push_gateway import Gateway
from helpers.api import V3, ok
from helpers.rooms import create_room, join, send_ok


@pytest.fixture
def app(make_app):
    # A long timeout: the slow gateway is still holding its requests when the fast one is used.
    return make_app(push={"allow_http_gateways": True, "ip_range_allowlist": ["127.0.0.1/32"],
                          "gateway_timeout_s": 60, "max_concurrent_per_gateway": 2})


class SlowGateway:
    """Holds every request until ``release`` is set; counts requests arrived."""

    def __init__(self):
        self.arrived = 0
        self.changed = threading.Condition()
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.changed:
                    outer.arrived += 1
                    outer.changed.notify_all()
                outer.release.wait(60)
                payload = json.dumps({"rejected": []}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                """Quiet: the test run's output stays clean."""

        self.server = LocalHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/_matrix/push/v1/notify"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_arrived(self, count: int, timeout_s: float = 30.0) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.arrived >= count, timeout_s)
            return self.arrived

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def set_pusher(user, url, pushkey):
    ok(user.post(f"{V3}/pushers/set", json={
        "kind": "http", "app_id": "org.example.app", "pushkey": pushkey,
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": url}}))


def test_slow_gateway_does_not_delay_another(register_user):
    slow, fast = SlowGateway(), Gateway()
    try:
        alice = register_user("alice")
        victims = [register_user(name) for name in ("bob", "carol", "dave")]
        erin = register_user("erin")
        room_id = create_room(alice, preset="public_chat")
        for user in victims + [erin]:
            join(user, room_id)
        for user in victims:
            set_pusher(user, slow.url, f"pk-{user.user_id}")
        send_ok(alice, room_id, "to the slow gateway")
        # Three notifications for the slow gateway: two are in flight (its limit), held.
        assert slow.wait_arrived(2) == 2

        set_pusher(erin, fast.url, "pk-erin")
        event_id = send_ok(alice, room_id, "to the fast gateway")
        received = fast.wait_for(1)
        assert [r["body"]["notification"]["event_id"] for r in received] == [event_id]
        assert not slow.release.is_set()  # delivered while the slow gateway still held on
        assert slow.arrived == 2  # never more than its limit at once

        slow.release.set()
        assert slow.wait_arrived(3) >= 3  # the third went out once a slot was free
    finally:
        slow.close()
        fast.close()
