"""Login through an OpenID Connect provider end to end: real gunicorn (two workers, so the
attempt started in one worker is finished in another), the test provider on loopback
(tests/oidc_provider.py), a requests session as the browser; then matrix-js-sdk's SSO helpers
(``getSsoLoginUrl``, ``loginWithToken``) against the same server."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import requests

from js_packages import npm_installed
from sso_support import CLIENT_URL, follow_until_client, idp, sign_in_at_provider  # noqa: F401

from homeserver.services.sso.settings import CALLBACK_PATH as CALLBACK
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js_sso")


@pytest.fixture
def sso_server(start_gunicorn, idp):
    server = start_gunicorn(access_log=True, oidc_providers=[idp.homeserver_config()],
                            sso={"client_whitelist": ["https://client.example.org/"]})
    idp.register_client(server.base_url + CALLBACK)
    # e2e servers share the database without clearing it: a subject of this server's own.
    idp.users["alice"].sub = f"sub-alice-{server.port}"
    return server


def _browser_login(sso_redirect_url: str) -> str:
    """A browser opens the homeserver's SSO redirect URL and signs in at the provider as
    alice; the loginToken it lands on the client with."""
    browser = requests.Session()
    response = browser.get(sso_redirect_url, allow_redirects=False)
    assert response.status_code == 302, response.text
    form = browser.get(response.headers["Location"], allow_redirects=False)
    landing = follow_until_client(browser, sign_in_at_provider(browser, form, "alice",
                                                               "alice's password"))
    assert landing.login_token is not None, landing.response.text
    return landing.login_token


def test_sso_login_through_gunicorn(sso_server, idp):
    flows = requests.get(sso_server.base_url + "/_matrix/client/v3/login", timeout=30).json()
    assert {"type": "m.login.sso",
            "identity_providers": [{"id": "test-idp", "name": "Test IdP"}]} in flows["flows"]
    token = _browser_login(requests.Request(
        "GET", sso_server.base_url + "/_matrix/client/v3/login/sso/redirect/test-idp",
        params={"redirectUrl": CLIENT_URL}).prepare().url)
    login = requests.post(sso_server.base_url + "/_matrix/client/v3/login", timeout=30,
                          json={"type": "m.login.token", "token": token})
    assert login.status_code == 200, login.text
    assert login.json()["user_id"] == f"@alice:{sso_server.server_name}"
    # The access log has the callback's request line, without its code and state.
    log = sso_server.access_log_path.read_text()
    assert CALLBACK in log
    assert token not in log
    for code in idp.issued_codes:
        assert code not in log


@pytest.fixture(scope="session")
def js_sso():
    """matrix-js-sdk from js_sso/package-lock.json."""
    return npm_installed(JS_DIR)


def _node(js_dir: str, *args: str) -> dict:
    result = subprocess.run(["node", "sso.mjs", *args], cwd=js_dir, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_matrix_js_sdk_sso_helpers(sso_server, idp, js_sso):
    started = _node(js_sso, "url", sso_server.base_url, CLIENT_URL)
    assert started["identity_providers"] == [{"id": "test-idp", "name": "Test IdP"}]
    logged_in = _node(js_sso, "login", sso_server.base_url, _browser_login(started["url"]))
    assert logged_in == {"user_id": f"@alice:{sso_server.server_name}",
                         "whoami": f"@alice:{sso_server.server_name}"}
