"""Attack: a user points a pusher at this server's own network (SSRF). The pusher URL only had a
scheme check and `requests` followed redirects, so the server posted to any internal address a
user named, directly, through a redirect, or through a DNS name that answers a public address
to the check and an internal one to the connection. Now push gateways are reached under the URL
preview address policy (services/outbound_http.py): no non-public address unless
`push.ip_range_allowlist` names it, the checked address is the one connected to, and redirects
are never followed.

The internal service is a recorder on 127.0.0.1 (not allow-listed here); each test waits until
the server has made (and failed) its delivery attempt, then checks the recorder got nothing.
"""

import http.server
import socket
import threading

import pytest

from homeserver.models.push import PushDelivery
from helpers.local_http import LocalHTTPServer
from helpers.push_gateway import Gateway
from helpers.api import V3, ok
from helpers.rooms import send_ok
from helpers.waiting import wait_until


def set_pusher(user, url):
    ok(user.post(f"{V3}/pushers/set", json={
        "kind": "http", "app_id": "org.example.app", "pushkey": "pk",
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": url}}))


def attempted():
    return PushDelivery.select().where(PushDelivery.attempts >= 1).exists()


@pytest.fixture
def push_config():
    return {"allow_http_gateways": True}  # no allow-list: loopback is refused


@pytest.fixture
def app(make_app, push_config):
    return make_app(push=push_config)


@pytest.fixture
def internal():
    server = Gateway(host="127.0.0.1")
    yield server
    server.close()


class Redirector:
    """A "gateway" on 127.0.0.2 that answers every POST with a redirect to ``target``."""

    def __init__(self, target: str):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.hits += 1
                self.send_response(307)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                """Quiet: the test run's output stays clean."""

        self.server = LocalHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_port}/_matrix/push/v1/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_pusher_at_an_internal_address_is_never_reached(room, internal, host):
    room_id, alice, bob = room
    set_pusher(bob, internal.url.replace("127.0.0.1", host))
    send_ok(alice, room_id, "hello internal service")
    assert wait_until(attempted)
    assert internal.received == []


# Both addresses are allowed here: what stops the attack is that redirects are not followed.
@pytest.mark.parametrize("push_config", [
    {"allow_http_gateways": True, "ip_range_allowlist": ["127.0.0.0/8"]}])
def test_redirecting_gateway_does_not_lead_inside(room, internal):
    room_id, alice, bob = room
    redirector = Redirector(internal.url)
    try:
        set_pusher(bob, redirector.url)
        send_ok(alice, room_id, "follow me")
        assert wait_until(attempted)
        assert redirector.hits >= 1
        assert internal.received == []
    finally:
        redirector.close()


# rebind.example answers an allowed address (127.0.0.2) once, then the internal one: a server
# that checked the name and then let its HTTP client resolve it again would connect to the
# internal service.
@pytest.mark.parametrize("push_config", [
    {"allow_http_gateways": True, "ip_range_allowlist": ["127.0.0.2/32"]}])
def test_dns_rebinding_does_not_lead_inside(room, internal, monkeypatch):
    room_id, alice, bob = room
    benign = Gateway(port=internal.port, host="127.0.0.2")
    real_getaddrinfo = socket.getaddrinfo
    answers = []

    def rebinding_getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, port, *args, **kwargs)
        address = "127.0.0.2" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_getaddrinfo)
    try:
        set_pusher(bob, f"http://rebind.example:{internal.port}/_matrix/push/v1/notify")
        send_ok(alice, room_id, "rebinding")
        assert len(benign.wait_for(1)) == 1
        assert internal.received == []
    finally:
        benign.close()
