"""The SSO tests' pieces: the homeserver served over real HTTP on loopback (so a ``requests``
session plays the browser, cookies and redirects included), the test OpenID Connect provider
(tests/oidc_provider.py), and the browser's walk through a login.

Fixtures (import them into the test module): ``idp`` (a started provider with the user alice),
``start_hs(**config)`` (a homeserver using it), ``hs`` (one with the default configuration).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from oidc_provider import LocalWSGIServer, OidcProvider, QuietHandler, serve_wsgi

from homeserver.services.sso import providers as sso_providers
from homeserver.services.sso.settings import CALLBACK_PATH as HS_CALLBACK_PATH

CLIENT_URL = "https://client.example.org/sso-done?client_state=1"
REDIRECT_PATH = "/_matrix/client/v3/login/sso/redirect"


@pytest.fixture
def idp():
    sso_providers.clear_caches()
    provider = OidcProvider().start()
    provider.add_user("alice", "alice's password", sub="sub-alice",
                      preferred_username="Alice", name="Alice Liddell")
    yield provider
    provider.stop()
    sso_providers.clear_caches()


@pytest.fixture
def start_hs(make_app, idp):
    started = []

    def start(**overrides):
        hs = start_homeserver(make_app, idp, **overrides)
        started.append(hs)
        return hs

    yield start
    for hs in started:
        hs.stop()


@pytest.fixture
def hs(start_hs):
    return start_hs()


@dataclass
class HttpHomeserver:
    base_url: str
    server_name: str
    server: LocalWSGIServer
    thread: object

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def callback_url(self) -> str:
        return self.base_url + HS_CALLBACK_PATH


def start_homeserver(make_app, idp: OidcProvider, *, providers=None, **overrides):
    """The homeserver (make_app of tests/conftest.py) on a loopback port, its callback URL
    registered at ``idp``."""
    server = LocalWSGIServer(("127.0.0.1", 0), QuietHandler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    if providers is None:
        providers = [idp.homeserver_config()]
    overrides.setdefault("sso", {"client_whitelist": ["https://client.example.org/"]})
    app = make_app(public_baseurl=base_url, oidc_providers=providers, **overrides)
    server, thread = serve_wsgi(app, server)
    idp.register_client(base_url + HS_CALLBACK_PATH)
    return HttpHomeserver(base_url, "localhost:8008", server, thread)


@dataclass
class Landing:
    """Where the browser ended: the last response, and the client URL it was sent to."""

    response: requests.Response
    client_url: str | None

    @property
    def login_token(self) -> str | None:
        if self.client_url is None:
            return None
        values = parse_qs(urlsplit(self.client_url).query).get("loginToken")
        return values[0] if values else None


def follow_until_client(browser: requests.Session, response: requests.Response) -> Landing:
    """Follow redirects like a browser, stopping at the first one that leaves for the client
    (https://client.example.org is not served anywhere)."""
    for _ in range(10):
        if response.status_code not in (301, 302, 303, 307, 308):
            return Landing(response, None)
        location = response.headers["Location"]
        if not location.startswith("http://127.0.0.1"):
            return Landing(response, location)
        response = browser.get(location, allow_redirects=False)
    raise AssertionError("too many redirects")


def open_provider_login(browser: requests.Session, hs: HttpHomeserver,
                        redirect_url: str = CLIENT_URL, idp_id: str | None = "test-idp"):
    """The browser opens /login/sso/redirect and follows to the provider's login form."""
    path = REDIRECT_PATH + (f"/{idp_id}" if idp_id else "")
    response = browser.get(hs.url(path), params={"redirectUrl": redirect_url},
                           allow_redirects=False)
    assert response.status_code == 302, response.text
    form = browser.get(response.headers["Location"], allow_redirects=False)
    assert form.status_code == 200, form.text
    return form


def sign_in_at_provider(browser: requests.Session, form: requests.Response, username: str,
                        password: str) -> requests.Response:
    """Submit the provider's login form; its answer redirects to the homeserver's callback."""
    answer = browser.post(form.url, data={"username": username, "password": password},
                          allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer


def sso_login(browser: requests.Session, hs: HttpHomeserver, username: str, password: str,
              redirect_url: str = CLIENT_URL) -> Landing:
    form = open_provider_login(browser, hs, redirect_url)
    return follow_until_client(browser, sign_in_at_provider(browser, form, username, password))


def token_login(hs: HttpHomeserver, login_token: str) -> requests.Response:
    return requests.post(hs.url("/_matrix/client/v3/login"),
                         json={"type": "m.login.token", "token": login_token}, timeout=30)
