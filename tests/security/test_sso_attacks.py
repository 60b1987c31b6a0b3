"""Attacks on login through an OpenID Connect provider (docs/security.md, "Single sign-on"),
each performed against the real flow: a real provider on loopback, a requests session as the
victim's browser and another as the attacker's."""

import logging

import pytest
import requests

from sso_support import (follow_until_client, hs, idp, open_provider_login,  # noqa: F401
                         sign_in_at_provider, sso_login, start_hs, token_login)


def _no_account_made(hs):
    login = requests.post(hs.url("/_matrix/client/v3/login"), timeout=30, json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": "x"})
    assert login.status_code == 403  # nobody: unknown user and wrong password read the same
    profile = requests.get(hs.url("/_matrix/client/v3/profile/@alice:localhost:8008"), timeout=30)
    assert profile.status_code == 404


def test_callback_in_another_browser_is_refused(hs, idp):
    """Login CSRF: the attacker signs in at the provider as themselves and sends the callback
    URL to the victim; the victim's browser lacks the attempt's cookie, so nothing happens."""
    attacker = requests.Session()
    form = open_provider_login(attacker, hs)
    callback = sign_in_at_provider(attacker, form, "alice", "alice's password")
    victim = requests.Session()
    landing = follow_until_client(victim, victim.get(callback.headers["Location"],
                                                     allow_redirects=False))
    assert landing.client_url is None
    assert landing.response.status_code == 400
    assert "expired or was already used" in landing.response.text
    assert idp.token_requests == 0  # the code was never even exchanged


def test_forged_state_is_refused(hs, idp):
    browser = requests.Session()
    form = open_provider_login(browser, hs)
    callback = sign_in_at_provider(browser, form, "alice", "alice's password")
    forged = callback.headers["Location"].replace("state=", "state=forged")
    answer = browser.get(forged, allow_redirects=False)
    assert answer.status_code == 400 and "loginToken" not in answer.headers.get("Location", "")
    assert idp.token_requests == 0


def test_a_callback_works_once(hs, idp):
    browser = requests.Session()
    form = open_provider_login(browser, hs)
    callback = sign_in_at_provider(browser, form, "alice", "alice's password")
    first = follow_until_client(browser, browser.get(callback.headers["Location"],
                                                     allow_redirects=False))
    assert first.login_token is not None
    replay = browser.get(callback.headers["Location"], allow_redirects=False)
    assert replay.status_code == 400 and "Location" not in replay.headers


def test_a_head_request_does_not_spend_the_callback(hs, idp):
    browser = requests.Session()
    form = open_provider_login(browser, hs)
    callback = sign_in_at_provider(browser, form, "alice", "alice's password")
    assert browser.head(callback.headers["Location"], allow_redirects=False).status_code == 200
    landing = follow_until_client(browser, browser.get(callback.headers["Location"],
                                                       allow_redirects=False))
    assert landing.login_token is not None


def test_an_attempt_expires(hs, idp, clock):
    browser = requests.Session()
    form = open_provider_login(browser, hs)
    callback = sign_in_at_provider(browser, form, "alice", "alice's password")
    clock.advance(15 * 60 * 1000 + 1)  # sso.session_lifetime_ms
    late = browser.get(callback.headers["Location"], allow_redirects=False)
    assert late.status_code == 400 and "expired" in late.text


def test_login_token_is_single_use(hs, idp):
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert token_login(hs, landing.login_token).status_code == 200
    replay = token_login(hs, landing.login_token)
    assert replay.status_code == 403 and replay.json()["errcode"] == "M_FORBIDDEN"


def test_login_token_expires(hs, idp, clock):
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    clock.advance(120_001)
    assert token_login(hs, landing.login_token).status_code == 403


def test_foreign_redirect_url_needs_the_person_to_confirm(hs, idp):
    """A link to /login/sso/redirect?redirectUrl=<attacker> does not send a login token to the
    attacker: the browser stops on a page naming the site, with nothing sent automatically."""
    evil = "https://evil.example/steal"
    landing = sso_login(requests.Session(), hs, "alice", "alice's password", redirect_url=evil)
    assert landing.client_url is None
    page = landing.response
    assert page.status_code == 200
    assert "evil.example" in page.text and "@alice:localhost:8008" in page.text
    assert "<script" not in page.text and "http-equiv" not in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Frame-Options"] == "DENY"


def test_a_whitelisted_prefix_does_not_cover_lookalike_hosts(hs, idp):
    landing = sso_login(requests.Session(), hs, "alice", "alice's password",
                        redirect_url="https://client.example.org.evil.example/")
    assert landing.client_url is None and "evil.example" in landing.response.text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "//evil.example/",
                                 "https:///nohost", "https://ok.example/\r\nSet-Cookie: x=1"])
def test_unusable_redirect_urls_are_refused(hs, url):
    response = requests.get(hs.url("/_matrix/client/v3/login/sso/redirect/test-idp"),
                            params={"redirectUrl": url}, allow_redirects=False, timeout=30)
    assert response.status_code == 400
    assert response.json()["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("misbehaviour", ["other_key", "wrong_audience", "wrong_issuer",
                                          "expired", "wrong_nonce"])
def test_id_tokens_that_do_not_verify_are_refused(hs, idp, misbehaviour):
    if misbehaviour == "other_key":
        idp.sign_with = idp.rogue_key()  # same key ID as the published key
    elif misbehaviour == "wrong_audience":
        idp.audience = ["another-client"]
    elif misbehaviour == "wrong_issuer":
        idp.issuer_claim = "https://impostor.example"
    elif misbehaviour == "expired":
        idp.expires_in_s = -3600
    else:
        idp.nonce_override = "a nonce of another attempt"
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert landing.client_url is None
    assert landing.response.status_code == 403
    assert "could not be verified" in landing.response.text
    _no_account_made(hs)


def test_tokens_and_codes_stay_out_of_the_logs(hs, idp, caplog):
    caplog.set_level(logging.DEBUG)
    idp.audience = ["another-client"]  # a failure logs a warning: it must not carry secrets
    failed = sso_login(requests.Session(), hs, "alice", "alice's password")
    assert failed.client_url is None
    idp.audience = None
    landing = sso_login(requests.Session(), hs, "alice", "alice's password")
    # The server's own records (the provider and the test's HTTP client log theirs too).
    text = "\n".join(record.getMessage() for record in caplog.records
                     if record.name.startswith(("homeserver", "peewee", "gunicorn")))
    assert "oidc_callback" in text  # the callback's request was logged
    assert landing.login_token not in text
    assert "a client secret" not in text
    for code in idp.issued_codes:
        assert code not in text


def test_an_answer_naming_another_issuer_is_refused(hs, idp):
    """RFC 9207 mix-up defence: the callback's ``iss`` must be the attempt's provider."""
    browser = requests.Session()
    form = open_provider_login(browser, hs)
    callback = sign_in_at_provider(browser, form, "alice", "alice's password")
    mixed = browser.get(callback.headers["Location"] + "&iss=https%3A%2F%2Fother.example",
                        allow_redirects=False)
    assert mixed.status_code == 403 and "another identity provider" in mixed.text
    assert idp.token_requests == 0
