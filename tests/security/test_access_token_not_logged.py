"""Attack (on the operator's logs): a client sends its access token in the query string
(``?access_token=``, which the spec still allows), and gunicorn's access log, and nginx's,
wrote the request line with it: anyone who can read the logs could act as that user. Now
gunicorn's logger (gunicorn.conf.py, homeserver/log_redaction.py) redacts credential
parameters from the request line, query and referer, and from error messages; the README's
nginx block logs the path without its query string.

Real gunicorn (tests/helpers/gunicorn_server.py) with its access log in a file, and the README's
nginx in front of it when nginx is installed; the token is used (and works), then the logs
are searched for it.
"""

from __future__ import annotations

import http.client
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from helpers.gunicorn_server import GunicornServer, free_port
from helpers.nginx_server import NginxServer, nginx_binary, readme_nginx_server_block

HTTP_TIMEOUT = 60


@pytest.fixture
def server(database_url, tmp_path):
    gunicorn = GunicornServer(database_url, tmp_path / "gunicorn", access_log=True,
                              workers=1, trust_x_forwarded_for=True)
    gunicorn.start()
    yield gunicorn
    gunicorn.stop()


def register(base: str) -> str:
    response = requests.post(f"{base}/_matrix/client/v3/register", timeout=HTTP_TIMEOUT, json={
        "username": f"logs_{uuid.uuid4().hex[:8]}", "password": "log secrets pw 1",
        "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def use_token_in_query(base: str, token: str) -> None:
    response = requests.get(f"{base}/_matrix/client/v3/account/whoami?access_token={token}",
                            timeout=HTTP_TIMEOUT)
    assert response.status_code == 200, response.text  # the token works: it is a secret
    # Percent-encoded name (the server decodes it; requests would normalize it, http.client
    # sends it as is).
    host, port = urlsplit(base).hostname, urlsplit(base).port
    connection = http.client.HTTPConnection(host, port, timeout=HTTP_TIMEOUT)
    try:
        connection.request("GET", "/_matrix/client/v3/account/whoami?timeout=0&access%5Ftoken="
                           + token)
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    # A wrong token, which the server refuses, is not written either.
    requests.get(f"{base}/_matrix/client/v3/account/whoami?access_token={token}x",
                 timeout=HTTP_TIMEOUT)


def wait_for_lines(path: Path, needle: str, count: int) -> str:
    """The log's text once it has ``count`` lines containing ``needle`` (lines are written
    after the response is sent)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        if text.count(needle) >= count:
            return text
        time.sleep(0.05)
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def test_gunicorn_logs_no_access_token(server):
    token = register(server.base_url)
    use_token_in_query(server.base_url, token)
    access = wait_for_lines(server.access_log_path, "/account/whoami", 3)
    assert access.count("/account/whoami") == 3
    assert token not in access
    assert "access_token=<redacted>" in access and "access%5Ftoken=<redacted>" in access
    assert token not in server.log_tail(10**6)


def test_nginx_logs_no_access_token(server, tmp_path):
    if nginx_binary() is None:
        pytest.skip("no nginx binary (Debian: apt-get install nginx-light)")
    port = free_port()
    with NginxServer(readme_nginx_server_block(), tmp_path / "nginx",
                     upstream_port=server.port, port=port) as nginx:
        token = register(nginx.base_url)
        use_token_in_query(nginx.base_url, token)
        logs = nginx.prefix / "access.log"
        text = wait_for_lines(logs, "/account/whoami", 3)
    assert text.count("/account/whoami") == 3
    assert token not in text
    assert token not in nginx.log_tail(10**6)
    access = wait_for_lines(server.access_log_path, "/account/whoami", 3)
    assert token not in access
