"""End to end through real gunicorn (2 workers) and a real SMTP server (aiosmtpd on loopback):
a user adds an email address by following the link the mail holds, forgets the password, gets
back in by email (the confirmation page of the reset link, then the tokenless
POST /account/password), and logs in with the address. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import requests

from mail_support import email_settings, link_in, mail_server  # noqa: F401

PASSWORD = "first password 123"
NEW_PASSWORD = "second password 456"
TIMEOUT = 30


def _post(base: str, path: str, body: dict, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{base}/_matrix/client/v3{path}", json=body, headers=headers,
                         timeout=TIMEOUT)


def _uia(base: str, path: str, body: dict, auth: dict, token: str | None = None) -> dict:
    first = _post(base, path, body, token)
    assert first.status_code == 401, first.text
    done = _post(base, path, {**body, "auth": {**auth, "session": first.json()["session"]}},
                 token)
    assert done.status_code == 200, done.text
    return done.json()


def test_forgotten_password_back_in_by_email(start_gunicorn, mail_server):  # noqa: F811
    server = start_gunicorn(email=email_settings(mail_server))
    base = server.base_url
    alice = _post(base, "/register", {"username": "alice", "password": PASSWORD,
                                      "auth": {"type": "m.login.dummy"}}).json()

    # Add an address: the mail's link is a page of this server.
    sid = _post(base, "/account/3pid/email/requestToken",
                {"client_secret": "add1", "email": "alice@example.org",
                 "send_attempt": 1}).json()["sid"]
    link = link_in(mail_server.wait_for("alice@example.org"))
    assert link.startswith(base + "/")
    page = requests.get(link, timeout=TIMEOUT)
    assert page.status_code == 200 and "Email address validated" in page.text
    _uia(base, "/account/3pid/add", {"sid": sid, "client_secret": "add1"},
         {"type": "m.login.password", "password": PASSWORD,
          "identifier": {"type": "m.id.user", "user": alice["user_id"]}},
         alice["access_token"])

    # Forgotten: reset by email, confirming on the link's page.
    sid = _post(base, "/account/password/email/requestToken",
                {"client_secret": "reset1", "email": "alice@example.org",
                 "send_attempt": 1}).json()["sid"]
    link = link_in(mail_server.wait_for("alice@example.org"))
    page = requests.get(link, timeout=TIMEOUT)
    assert re.search(r'<form method="post" action="validate">', page.text)
    confirmed = requests.post(f"{base}/_homeserver/email/validate",
                              data=dict(parse_qsl(urlsplit(link).query)), timeout=TIMEOUT)
    assert "Email address validated" in confirmed.text
    _uia(base, "/account/password", {"new_password": NEW_PASSWORD},
         {"type": "m.login.email.identity",
          "threepid_creds": {"sid": sid, "client_secret": "reset1"}})

    # The old session is gone; the address and the new password log in.
    whoami = requests.get(f"{base}/_matrix/client/v3/account/whoami", timeout=TIMEOUT,
                          headers={"Authorization": f"Bearer {alice['access_token']}"})
    assert whoami.status_code == 401
    login = _post(base, "/login", {"type": "m.login.password", "password": NEW_PASSWORD,
                                   "identifier": {"type": "m.id.thirdparty", "medium": "email",
                                                  "address": "alice@example.org"}})
    assert login.status_code == 200 and login.json()["user_id"] == alice["user_id"]
