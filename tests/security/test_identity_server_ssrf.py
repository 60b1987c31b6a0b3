"""Attack: a user names this server's own network as their identity server (SSRF). ``id_server``
in /account/3pid/bind, /unbind, /delete, /invite and createRoom's ``invite_3pid`` is the
client's choice, and so is the ``key_validity_url`` of an m.room.third_party_invite event a room
admin writes, which the server fetches when a join carries ``third_party_signed``. Each would
make the server send requests (with the body and headers the attacker chose) to internal
addresses. Identity servers are reached under the URL preview address policy
(services/outbound_http.py): no non-public address unless ``identity_servers.trusted`` names
the server, no redirect followed, a deadline and a bounded answer.

The internal service is a recorder on 127.0.0.1 (SSRF's target); it must never hear from us.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from homeserver.services import canonical
from helpers.api import V3, error, ok
from helpers.identity_server import ACCESS_TOKEN, IdentityServer
from helpers.local_http import LocalHTTPServer
from helpers.rooms import create_room, put_state_ok


class Recorder:
    """An internal HTTP service that records every request; with ``redirect`` it answers
    307 to that URL, with ``huge`` an endless body."""

    def __init__(self, host: str = "127.0.0.1", redirect: str | None = None,
                 huge: bool = False):
        self.hits: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                outer.hits.append(self.path)
                if redirect:
                    self.send_response(307)
                    self.send_header("Location", redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                if huge:
                    self.wfile.write(b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}')
                else:
                    self.wfile.write(b'{"valid": true, "algorithms": ["none"], '
                                     b'"lookup_pepper": "p", "mappings": {}}')

            do_GET = do_POST = _any

            def log_message(self, *args):
                return None  # quiet: the test log stays free of request lines

        self.server = LocalHTTPServer((host, 0), Handler)
        self.name = f"{host}:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def internal():
    server = Recorder()
    yield server
    server.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_internal_identity_server_is_never_reached(register_user, internal, host):
    alice = register_user("alice")
    id_server = internal.name.replace("127.0.0.1", host)
    refused = error(alice.post(f"{V3}/account/3pid/bind", json={
        "id_server": id_server, "id_access_token": "t", "sid": "1", "client_secret": "s"}),
        400, "M_SERVER_NOT_TRUSTED")
    assert "non-public" in refused["error"]  # the address policy, not allow_untrusted
    room_id = create_room(alice)
    error(alice.post(f"{V3}/rooms/{room_id}/invite", json={
        "id_server": id_server, "id_access_token": "t", "medium": "email",
        "address": "x@example.org"}), 400, "M_SERVER_NOT_TRUSTED")
    error(alice.post(f"{V3}/createRoom", json={"invite_3pid": [{
        "id_server": id_server, "id_access_token": "t", "medium": "email",
        "address": "x@example.org"}]}), 400, "M_SERVER_NOT_TRUSTED")
    for path in ("unbind", "delete"):
        assert ok(alice.post(f"{V3}/account/3pid/{path}", json={
            "id_server": id_server, "medium": "email", "address": "x@example.org"})) == {
            "id_server_unbind_result": "no-support"}
    assert internal.hits == []


def test_id_server_cannot_smuggle_a_path(register_user, internal):
    alice = register_user("alice")
    error(alice.post(f"{V3}/account/3pid/bind", json={
        "id_server": f"{internal.name}/admin?", "id_access_token": "t", "sid": "1",
        "client_secret": "s"}), 400, "M_INVALID_PARAM")
    assert internal.hits == []


def test_key_validity_url_inside_is_never_fetched(register_user, internal):
    """A room admin writes a third-party invite whose key they hold and whose
    key_validity_url is the internal service, then joins with a block signed by that key."""
    alice = register_user("alice")
    room_id = create_room(alice)
    key = ECC.generate(curve="ed25519")
    public = canonical.unpadded_base64(key.public_key().export_key(format="raw"))
    put_state_ok(alice, room_id, "m.room.third_party_invite", {
        "display_name": "x", "public_key": public,
        "key_validity_url": f"http://{internal.name}/internal/api"}, state_key="tok")
    mallory = register_user("mallory")
    signed = {"mxid": mallory.user_id, "sender": alice.user_id, "token": "tok"}
    signature = eddsa.new(key, "rfc8032").sign(canonical.encode(signed))
    signed["signatures"] = {"evil": {"ed25519:0": canonical.unpadded_base64(signature)}}
    error(mallory.post(f"{V3}/rooms/{room_id}/join", json={"third_party_signed": signed}),
          403, "M_FORBIDDEN")
    assert internal.hits == []


@pytest.fixture
def app(make_app):
    # The trusted identity server is on 127.0.0.2: 127.0.0.1 stays internal.
    return make_app(identity_servers={"trusted": ["127.0.0.2"], "trusted_scheme": "http",
                                      "allow_untrusted": True, "timeout_s": 2})


def test_trusted_identity_server_redirecting_inside_is_not_followed(register_user, internal):
    redirector = Recorder(host="127.0.0.2", redirect=f"http://{internal.name}/internal")
    try:
        alice = register_user("alice")
        room_id = create_room(alice)
        error(alice.post(f"{V3}/rooms/{room_id}/invite", json={
            "id_server": redirector.name, "id_access_token": ACCESS_TOKEN, "medium": "email",
            "address": "x@example.org"}), 502, "IO.HOMESERVER_IDENTITY_SERVER_UNAVAILABLE")
        assert redirector.hits and internal.hits == []
    finally:
        redirector.close()


def test_huge_answer_is_not_read_whole(register_user):
    flood = Recorder(host="127.0.0.2", huge=True)
    try:
        alice = register_user("alice")
        sid_body = {"id_server": flood.name, "id_access_token": ACCESS_TOKEN, "sid": "1",
                    "client_secret": "s"}
        error(alice.post(f"{V3}/account/3pid/bind", json=sid_body), 502,
              "IO.HOMESERVER_IDENTITY_SERVER_UNAVAILABLE")
        assert flood.hits == ["/_matrix/identity/v2/3pid/bind"]
    finally:
        flood.close()


def test_silent_identity_server_ends_at_the_deadline(register_user):
    """A server that accepts the connection and never answers: the request ends with an
    error (the configured 2 s), it does not hold the worker thread."""
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(1)
    try:
        alice = register_user("alice")
        error(alice.post(f"{V3}/account/3pid/bind", json={
            "id_server": f"127.0.0.2:{listener.getsockname()[1]}",
            "id_access_token": ACCESS_TOKEN, "sid": "1", "client_secret": "s"}),
            502, "IO.HOMESERVER_IDENTITY_SERVER_UNAVAILABLE")
    finally:
        listener.close()


def test_the_stub_identity_server_works_when_trusted(register_user):
    """The control: the same requests reach a trusted identity server."""
    server = IdentityServer(host="127.0.0.2")
    try:
        alice = register_user("alice")
        sid = server.validate("email", "a@example.org")
        ok(alice.post(f"{V3}/account/3pid/bind", json={
            "id_server": server.name, "id_access_token": ACCESS_TOKEN, "sid": sid,
            "client_secret": "s"}))
        assert server.bindings == {("email", "a@example.org"): alice.user_id}
    finally:
        server.close()
