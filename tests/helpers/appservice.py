"""Helpers for the application service tests: a service on 127.0.0.1 run by the test, and its
registration file."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from helpers.local_http import LocalHTTPServer
from helpers.user_handle import UserHandle

SERVER = "localhost:8008"
AS_TOKEN = "as-secret-token"
HS_TOKEN = "hs-secret-token"


class FakeService:
    """An application service that records what the homeserver sends it.

    ``statuses``: HTTP statuses of the next transaction answers (then 200). ``users`` and
    ``aliases``: what user/alias queries answer 200 for (``on_query(kind, id)`` runs first,
    e.g. to register the user). ``thirdparty``: path -> JSON answer.
    """

    def __init__(self):
        self.transactions: list[dict] = []  # {"txn_id", "body", "auth"}
        self.attempts: list[str] = []  # txnIds of every PUT, answered or failed
        self.queries: list[str] = []
        self.pings: list[dict] = []
        self.statuses: list[int] = []
        self.users: set[str] = set()
        self.aliases: set[str] = set()
        self.thirdparty: dict[str, object] = {}
        self.on_query = None
        self.arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length)) if length else None

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                body = self._body()
                path = urlsplit(self.path).path
                txn_id = path.rsplit("/", 1)[-1]
                with service.arrived:
                    service.attempts.append(txn_id)
                    status = service.statuses.pop(0) if service.statuses else 200
                    if status == 200:
                        service.transactions.append({
                            "txn_id": txn_id, "body": body, "path": path,
                            "auth": self.headers.get("Authorization")})
                    service.arrived.notify_all()
                self._answer(status, {})

            def do_POST(self):
                body = self._body()
                with service.arrived:
                    service.pings.append({"path": self.path, "body": body,
                                          "auth": self.headers.get("Authorization")})
                    service.arrived.notify_all()
                self._answer(200, {})

            def do_GET(self):
                parts = urlsplit(self.path)
                with service.arrived:
                    service.queries.append(self.path)
                    service.arrived.notify_all()
                if self.headers.get("Authorization") != f"Bearer {HS_TOKEN}":
                    self._answer(403, {"errcode": "M_FORBIDDEN"})
                    return
                for kind, known in (("users", service.users), ("rooms", service.aliases)):
                    prefix = f"/_matrix/app/v1/{kind}/"
                    if parts.path.startswith(prefix):
                        identifier = unquote(parts.path[len(prefix):])
                        if identifier in known:
                            if service.on_query is not None:
                                service.on_query(kind, identifier)
                            self._answer(200, {})
                        else:
                            self._answer(404, {"errcode": "M_NOT_FOUND"})
                        return
                if parts.path in service.thirdparty:
                    self._answer(200, service.thirdparty[parts.path])
                    return
                self._answer(404, {"errcode": "M_NOT_FOUND"})

            def log_message(self, *args):
                pass

        self.server = LocalHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, condition, timeout_s: float = 30.0):
        with self.arrived:
            self.arrived.wait_for(lambda: condition(self), timeout_s)
            return condition(self)

    def events(self) -> list[dict]:
        with self.arrived:
            return [e for t in self.transactions for e in t["body"]["events"]]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_service():
    service = FakeService()
    yield service
    service.close()


def registration(url, *, id="bridge", as_token=AS_TOKEN, hs_token=HS_TOKEN,
                 sender="_bridgebot", users=None, aliases=None, rooms=None, **extra) -> dict:
    """A registration as bridges write it: exclusive namespace ``@_bridge_.*`` by default."""
    return {
        "id": id, "url": url, "as_token": as_token, "hs_token": hs_token,
        "sender_localpart": sender,
        "namespaces": {
            "users": users if users is not None else [
                {"exclusive": True, "regex": f"@_bridge_.*:{SERVER}"}],
            "aliases": aliases if aliases is not None else [
                {"exclusive": True, "regex": f"#_bridge_.*:{SERVER}"}],
            "rooms": rooms or [],
        },
        **extra,
    }


@pytest.fixture
def service_app(make_app, fake_service, tmp_path):
    """``service_app(**registration_keys)``: an app with one service, the test's fake_service
    (retries back off at most 1 s)."""
    def build(**extra):
        path = write_registration(tmp_path, registration(fake_service.url, **extra))
        return make_app(app_service_config_files=[path], app_service_max_backoff_ms=1000)
    return build


def write_registration(directory, data, name="registration.yaml") -> str:
    path = directory / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def as_headers(token=AS_TOKEN):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def unused_port():
    """A loopback port nobody listens on (a service that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def register_user_on(client, localpart: str) -> UserHandle:
    """A regular user registered through ``client`` (the app with the services configured)."""
    response = client.post("/_matrix/client/v3/register", json={
        "username": localpart, "password": "pw", "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    return UserHandle(client, data["user_id"], data["access_token"], data["device_id"], "pw")
