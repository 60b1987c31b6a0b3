"""Attacks on the email endpoints (README "Email", docs/security.md "Email"):

- a password reset somebody else asked for: the victim opens the link in the mail; if that
  validated the session, the attacker (who holds its sid and client_secret) would set the
  victim's password. The reset page asks for confirmation, and only the POST validates;
- a header or a second recipient smuggled in the address (CR/LF, ``>, <``): refused before
  any mail is queued;
- a silent SMTP server (accepts the connection, never speaks): requests must not wait for
  it; the mail waits in the outbox instead.
"""

import socket
import threading

import pytest

from homeserver.models.email import OutgoingMail
from mail_support import (RESET_TOKEN, add_address, email_settings, follow,  # noqa: F401
                          link_in, mail_server, request_token, validate)
from rooms_support import V3, error, ok


@pytest.fixture
def app(mail_server, make_app):  # noqa: F811
    return make_app(email=email_settings(mail_server))


def test_opening_a_reset_link_hands_over_nothing(client, register_user,
                                                  mail_server):  # noqa: F811
    victim = register_user("victim")
    ok(add_address(victim, validate(client, mail_server, "victim@example.org")))
    # The attacker asks for a reset of the victim's address, keeping the session's secrets.
    start = client.post(f"{V3}/account/password", json={"new_password": "attacker's"})
    sid = ok(request_token(client, RESET_TOKEN, "victim@example.org", "attacker"))["sid"]
    # The victim (or their mail scanner) opens the link.
    page = follow(client, link_in(mail_server.wait_for("victim@example.org")))
    assert "Only continue if it was you" in page.get_data(True)
    takeover = client.post(f"{V3}/account/password", json={
        "new_password": "attacker's",
        "auth": {"type": "m.login.email.identity", "session": start.get_json()["session"],
                 "threepid_creds": {"sid": sid, "client_secret": "attacker"}}})
    assert takeover.status_code == 401
    assert takeover.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
    ok(victim.get(f"{V3}/account/whoami"))


def test_address_cannot_add_headers_or_recipients(client):
    for hostile in ("victim@example.org\r\nBcc: all@example.org",
                    "victim@example.org>, <other@example.org",
                    "victim@example.org\nSubject: x",
                    "victim@example.org\x00",
                    "a" * 400 + "@example.org"):
        error(request_token(client, "/account/3pid/email/requestToken", hostile), 400,
              "M_INVALID_PARAM")
    with client.application.app_context():
        assert OutgoingMail.select().count() == 0


class SilentSMTPServer:
    """Accepts connections and never says a word (nor closes them) until ``close``."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.accepted = threading.Condition()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed
            with self.accepted:
                self.connections.append(conn)
                self.accepted.notify_all()

    def wait_connected(self, timeout_s: float = 30.0) -> bool:
        with self.accepted:
            return self.accepted.wait_for(lambda: self.connections, timeout_s)

    def close(self):
        self.listener.close()
        for conn in self.connections:
            conn.close()


def test_silent_smtp_server_holds_no_request(make_app):
    silent = SilentSMTPServer()
    try:
        settings = {"smtp_host": "127.0.0.1", "smtp_port": silent.port,
                    "notif_from": "x <noreply@example.org>", "smtp_timeout_s": 1}
        client = make_app(email=settings).test_client()
        # Answered at once, while the sender is stuck in the SMTP greeting.
        ok(request_token(client, "/account/3pid/email/requestToken", "a@example.org"))
        assert silent.wait_connected()
        ok(request_token(client, "/account/3pid/email/requestToken", "b@example.org"))
        with client.application.app_context():
            # Both mails wait in the outbox; none is lost.
            assert sorted(m.recipient for m in OutgoingMail.select()) == [
                "a@example.org", "b@example.org"]
    finally:
        silent.close()


def test_malformed_requests_get_standard_errors(client, register_user):
    """Wrong types and shapes anywhere in the email endpoints: a 4xx Matrix error, no 500."""
    alice = register_user("alice")
    bodies = [{"client_secret": 1, "email": "a@b.org", "send_attempt": 1},
              {"client_secret": "s", "email": ["a@b.org"], "send_attempt": 1},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": "1"},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": 1, "next_link": 5},
              {"client_secret": "s" * 300, "email": "a@b.org", "send_attempt": 1},
              {"client_secret": "s", "email": "a@b.org", "send_attempt": 10 ** 30},
              [], "x"]
    for path in ("/account/3pid/email/requestToken", "/register/email/requestToken",
                 RESET_TOKEN):
        for body in bodies:
            response = client.post(f"{V3}{path}", json=body)
            assert 400 <= response.status_code < 500, (path, body, response.get_json())
            assert response.get_json()["errcode"].startswith("M_")
    for body in ([], {"sid": 1, "client_secret": [], "token": {}}, {}):
        response = client.post("/_homeserver/email/submit_token", json=body)
        assert response.status_code in (200, 400), body
        if response.status_code == 200:
            assert response.get_json() == {"success": False}
    for query in ("", "?sid=x", "?sid=" + "x" * 5000 + "&client_secret=y&token=z"):
        assert "does not work" in client.get(f"/_homeserver/email/validate{query}").get_data(
            True)
    assert "does not work" in client.post("/_homeserver/email/unsubscribe",
                                          data={"pusher": "1" * 40, "token": "x"}).get_data(True)
    for creds in (None, "x", {"sid": 1}, {"sid": "a", "client_secret": None}, []):
        start = client.post(f"{V3}/account/password", json={"new_password": "n"})
        response = client.post(f"{V3}/account/password", json={"new_password": "n", "auth": {
            "type": "m.login.email.identity", "session": start.get_json()["session"],
            "threepid_creds": creds}})
        assert response.status_code == 401, creds
        assert response.get_json()["errcode"] in ("M_MISSING_PARAM", "M_THREEPID_AUTH_FAILED")
    for body in ({"sid": 1, "client_secret": "x"}, {"sid": "x"}, {"three_pid_creds": "x"}):
        response = alice.post(f"{V3}/account/3pid/add", json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    response = alice.post(f"{V3}/account/3pid", json={"three_pid_creds": {
        "sid": "x", "client_secret": "y", "id_server": "z", "id_access_token": "t"}})
    assert response.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
