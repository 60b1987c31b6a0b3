"""The documented deployment, for real: gunicorn (``trust_x_forwarded_for: true``) behind an nginx
configured with README.md's "Behind nginx" example (see nginx_server.py for the only adaptations:
listen port, no TLS, upstream port). Clients talk to nginx only, except where a test says so.
Runs on SQLite and on PostgreSQL; skipped when no nginx binary is installed."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests
from requests.adapters import HTTPAdapter

from helpers.gunicorn_server import GunicornServer, ServerFailed, free_port
from homeserver.config import load_config
from homeserver.services.streams.long_polls import MAX_TIMEOUT_MS
from helpers.nginx_server import (NginxServer, directive_values, nginx_binary,
                                  readme_nginx_server_block)

PASSWORD = "nginx deployment pw 1"
MiB = 1024 * 1024
# Safety net for requests that should answer at once (no test asserts timings).
HTTP_TIMEOUT = 60


@dataclass
class Deployment:
    gunicorn: GunicornServer
    nginx: NginxServer

    @property
    def base(self) -> str:
        return self.nginx.base_url


@pytest.fixture
def start_deployment(start_gunicorn, tmp_path):
    """``start_deployment(**config_overrides)`` -> gunicorn behind nginx, both started."""
    if nginx_binary() is None:
        pytest.skip("no nginx binary (Debian: apt-get install nginx-light); the deployment "
                    "tests need a real nginx")
    started: list[NginxServer] = []

    def start(**overrides) -> Deployment:
        nginx_port = free_port()
        nginx_url = f"http://127.0.0.1:{nginx_port}"
        gunicorn = start_gunicorn(trust_x_forwarded_for=True, public_baseurl=nginx_url,
                                  **overrides)
        nginx = NginxServer(readme_nginx_server_block(), tmp_path / f"nginx{len(started)}",
                            upstream_port=gunicorn.port, port=nginx_port)
        started.append(nginx)
        try:
            nginx.start()
        except ServerFailed as exc:
            pytest.fail(str(exc))
        return Deployment(gunicorn, nginx)

    yield start
    for nginx in started:
        nginx.stop()


class _FromAddress(HTTPAdapter):
    """Connects from a chosen local address, so nginx sees a client that is not 127.0.0.1."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", _FromAddress(source))
    return session


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def register(base: str, http=requests) -> dict:
    localpart = f"nginx_{uuid.uuid4().hex[:8]}"
    response = http.post(f"{base}/_matrix/client/v3/register", timeout=HTTP_TIMEOUT,
                         json={"username": localpart, "password": PASSWORD,
                               "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 200, response.text
    return response.json()


def assert_matrix_error(response: requests.Response, status: int, errcode: str) -> None:
    """The spec's standard error response: JSON with errcode, not an nginx HTML page."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    assert response.json()["errcode"] == errcode


def _size_in_bytes(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", value).groups()
    return int(number) * {"": 1, "k": 1024, "m": MiB, "g": 1024 * MiB}[unit.lower()]


def _seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()
    return int(number) * (60 if unit == "m" else 1)


def test_readme_nginx_limits_fit_the_server_defaults():
    """The README's numbers against the server's: a /sync long-poll (capped at MAX_TIMEOUT_MS)
    must end before nginx gives up on the upstream (a 504 otherwise), and nginx must let through
    exactly the uploads the server accepts (the server drains a refused body only up to that
    size; beyond it nginx refuses)."""
    block = readme_nginx_server_block()
    [read_timeout] = directive_values(block, "proxy_read_timeout")
    assert _seconds(read_timeout) > MAX_TIMEOUT_MS / 1000
    [body_size] = directive_values(block, "client_max_body_size")
    defaults = load_config(path=os.devnull, environ={})
    assert _size_in_bytes(body_size) == defaults.media["max_upload_size"]


def test_client_api_errors_and_cors_through_nginx(start_deployment):
    deployment = start_deployment(support={"support_page": "https://example.org/help"})
    base = deployment.base

    versions = requests.get(f"{base}/_matrix/client/versions", timeout=HTTP_TIMEOUT)
    assert versions.status_code == 200
    assert "v1.1" in versions.json()["versions"]

    # Discovery points clients at the public (nginx) address.
    well_known = requests.get(f"{base}/.well-known/matrix/client", timeout=HTTP_TIMEOUT)
    assert well_known.status_code == 200, well_known.text
    assert well_known.json()["m.homeserver"]["base_url"] == base
    support = requests.get(f"{base}/.well-known/matrix/support", timeout=HTTP_TIMEOUT)
    assert support.status_code == 200, support.text
    assert support.json() == {"support_page": "https://example.org/help"}

    # Errors are the server's standard JSON errors, passed through unchanged.
    assert_matrix_error(requests.get(f"{base}/_matrix/client/v3/no_such_endpoint",
                                     timeout=HTTP_TIMEOUT), 404, "M_UNRECOGNIZED")
    assert_matrix_error(requests.delete(f"{base}/_matrix/client/versions",
                                        timeout=HTTP_TIMEOUT), 405, "M_UNRECOGNIZED")
    assert_matrix_error(requests.get(f"{base}/_matrix/media/v3/config",
                                     timeout=HTTP_TIMEOUT), 401, "M_MISSING_TOKEN")
    user = register(base)
    token = user["access_token"]
    # The admin API of the README's "Media" section is reached through nginx too.
    assert_matrix_error(requests.get(f"{base}/_homeserver/admin/v1/media/usage",
                                     headers=auth(token), timeout=HTTP_TIMEOUT),
                        403, "M_FORBIDDEN")
    # So is Synapse's admin API (docs/admin-api.md), which operators' tools call.
    assert_matrix_error(requests.get(f"{base}/_synapse/admin/v2/users",
                                     headers=auth(token), timeout=HTTP_TIMEOUT),
                        403, "M_FORBIDDEN")
    version = requests.get(f"{base}/_synapse/admin/v1/server_version", timeout=HTTP_TIMEOUT)
    assert version.status_code == 200 and "server_version" in version.json()

    # A browser client's CORS pre-flight, then the request it allows.
    preflight = requests.options(
        f"{base}/_matrix/client/v3/account/whoami", timeout=HTTP_TIMEOUT,
        headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    whoami = requests.get(f"{base}/_matrix/client/v3/account/whoami", timeout=HTTP_TIMEOUT,
                          headers={**auth(token), "Origin": "https://app.example.org"})
    assert whoami.status_code == 200
    assert whoami.json()["user_id"] == user["user_id"]
    assert whoami.headers["Access-Control-Allow-Origin"] == "*"


def _last_seen_ips(http: requests.Session, base: str, token: str) -> dict:
    """Every device's last_seen_ip (asking counts as a request of the asking device)."""
    response = http.get(f"{base}/_matrix/client/v3/devices", headers=auth(token),
                        timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text
    return {device["device_id"]: device.get("last_seen_ip")
            for device in response.json()["devices"]}


def test_client_address_is_the_one_nginx_saw(start_deployment):
    """gunicorn only ever sees nginx (127.0.0.1); the device's last_seen_ip is the address the
    client connected to nginx from, and an X-Forwarded-For the client makes up is overwritten."""
    deployment = start_deployment()
    base = deployment.base

    from_phone = session_from("127.0.0.2")
    phone = register(base, from_phone)
    seen = _last_seen_ips(from_phone, base, phone["access_token"])
    assert seen == {phone["device_id"]: "127.0.0.2"}

    login = session_from("127.0.0.3").post(
        f"{base}/_matrix/client/v3/login", timeout=HTTP_TIMEOUT,
        headers={"X-Forwarded-For": "203.0.113.7"},
        json={"type": "m.login.password", "password": PASSWORD,
              "identifier": {"type": "m.id.user", "user": phone["user_id"]}})
    assert login.status_code == 200, login.text
    laptop = login.json()
    assert _last_seen_ips(from_phone, base, phone["access_token"]) == {
        phone["device_id"]: "127.0.0.2", laptop["device_id"]: "127.0.0.3"}

    # Control: the server does trust X-Forwarded-For (as configured), so it is nginx's
    # overwriting that stopped the made-up address above. Straight to gunicorn it gets through.
    direct = requests.post(
        f"{deployment.gunicorn.base_url}/_matrix/client/v3/login", timeout=HTTP_TIMEOUT,
        headers={"X-Forwarded-For": "203.0.113.7"},
        json={"type": "m.login.password", "password": PASSWORD,
              "identifier": {"type": "m.id.user", "user": phone["user_id"]}})
    assert direct.status_code == 200, direct.text
    seen = _last_seen_ips(from_phone, base, phone["access_token"])
    assert seen[direct.json()["device_id"]] == "203.0.113.7"


def test_sync_long_poll_through_nginx_is_woken_by_a_message(start_deployment):
    deployment = start_deployment()
    base = deployment.base
    user = register(base)
    headers = auth(user["access_token"])
    created = requests.post(f"{base}/_matrix/client/v3/createRoom", headers=headers,
                            json={"name": "behind nginx"}, timeout=HTTP_TIMEOUT)
    assert created.status_code == 200, created.text
    room_id = created.json()["room_id"]
    initial = requests.get(f"{base}/_matrix/client/v3/sync", headers=headers,
                           timeout=HTTP_TIMEOUT)
    assert initial.status_code == 200, initial.text
    since = initial.json()["next_batch"]

    # Held long-polls pass nginx: one that runs out answers an empty 200, not a 504.
    quiet = requests.get(f"{base}/_matrix/client/v3/sync", headers=headers, timeout=HTTP_TIMEOUT,
                         params={"since": since, "timeout": 1500})
    assert quiet.status_code == 200, quiet.text
    assert room_id not in quiet.json().get("rooms", {}).get("join", {})

    result: dict = {}
    done = threading.Event()

    def long_poll():
        try:
            result["response"] = requests.get(
                f"{base}/_matrix/client/v3/sync", headers=headers,
                params={"since": quiet.json()["next_batch"], "timeout": 90_000},
                timeout=MAX_TIMEOUT_MS / 1000 + 60)
        finally:
            done.set()

    poller = threading.Thread(target=long_poll, daemon=True)
    poller.start()
    # Ordering only, not a timing assertion: the sync is most likely waiting by then, and the
    # test holds either way.
    done.wait(1.0)
    sent = requests.put(
        f"{base}/_matrix/client/v3/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}",
        headers=headers, json={"msgtype": "m.text", "body": "through nginx"},
        timeout=HTTP_TIMEOUT)
    assert sent.status_code == 200, sent.text
    done.wait()
    poller.join()
    response = result["response"]
    assert response.status_code == 200, response.text
    timeline = response.json()["rooms"]["join"][room_id]["timeline"]["events"]
    assert sent.json()["event_id"] in [event["event_id"] for event in timeline]


def test_media_upload_of_megabytes_through_nginx(start_deployment):
    """Several MiB pass nginx (its default client_max_body_size is 1 MiB) and come back whole;
    a body over the limit is refused by nginx as the Matrix error, before it is sent."""
    deployment = start_deployment()
    base = deployment.base
    user = register(base)
    headers = auth(user["access_token"])

    content = os.urandom(5 * MiB)
    upload = requests.post(f"{base}/_matrix/media/v3/upload", params={"filename": "big.bin"},
                           headers={**headers, "Content-Type": "application/octet-stream"},
                           data=content, timeout=HTTP_TIMEOUT)
    assert upload.status_code == 200, upload.text
    server_name, media_id = upload.json()["content_uri"].removeprefix("mxc://").split("/")
    download_url = f"{base}/_matrix/client/v1/media/download/{server_name}/{media_id}"

    download = requests.get(download_url, headers=headers, timeout=HTTP_TIMEOUT)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(content).digest()
    part = requests.get(download_url, headers={**headers, "Range": "bytes=1048576-1048675"},
                        timeout=HTTP_TIMEOUT)
    assert part.status_code == 206
    assert part.content == content[MiB:MiB + 100]

    media_config = requests.get(f"{base}/_matrix/client/v1/media/config", headers=headers,
                                timeout=HTTP_TIMEOUT)
    max_upload = media_config.json()["m.upload.size"]
    [body_size] = directive_values(readme_nginx_server_block(), "client_max_body_size")
    assert max_upload == _size_in_bytes(body_size)
    # One byte more than that, announced: nginx answers from the headers alone.
    connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port,
                                            timeout=HTTP_TIMEOUT)
    try:
        connection.putrequest("POST", "/_matrix/media/v3/upload")
        for name, value in {**headers, "Content-Type": "application/octet-stream",
                            "Content-Length": str(max_upload + 1)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        refused = connection.getresponse()
        assert refused.status == 413
        assert refused.getheader("Content-Type").startswith("application/json")
        assert refused.getheader("Access-Control-Allow-Origin") == "*"
        assert json.loads(refused.read())["errcode"] == "M_TOO_LARGE"
    finally:
        connection.close()


# Refusals of a large body race nginx sending it: several tries make a lost answer (502) show.
REFUSAL_TRIES = 10


def test_refused_large_bodies_get_the_servers_answer_through_nginx(start_deployment):
    """The server refuses these without needing the body; nginx, which buffered it, is still
    sending it on. The client must get the server's answer, not an nginx 502."""
    deployment = start_deployment()
    base = deployment.base
    user = register(base)
    account_data = (f"{base}/_matrix/client/v3/user/{quote(user['user_id'])}"
                    "/account_data/org.example.big")
    # Over max_request_size (1 MiB, for JSON), under nginx's limit.
    too_big = json.dumps({"junk": "x" * (8 * MiB)})
    upload = os.urandom(8 * MiB)
    for _ in range(REFUSAL_TRIES):
        assert_matrix_error(requests.put(
            account_data, data=too_big, timeout=HTTP_TIMEOUT,
            headers={**auth(user["access_token"]), "Content-Type": "application/json"}),
            413, "M_TOO_LARGE")
        assert_matrix_error(requests.post(
            f"{base}/_matrix/media/v3/upload", data=upload, timeout=HTTP_TIMEOUT,
            headers={**auth("not_a_token"), "Content-Type": "application/octet-stream"}),
            401, "M_UNKNOWN_TOKEN")
