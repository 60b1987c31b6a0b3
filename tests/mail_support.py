"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, recording what it receives."""

import email
import email.policy
import re
import socket
import threading
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
from aiosmtpd.controller import Controller

from rooms_support import V3, ok

ADD_TOKEN = "/account/3pid/email/requestToken"
REGISTER_TOKEN = "/register/email/requestToken"
RESET_TOKEN = "/account/password/email/requestToken"
PASSWORD = "correct horse battery"  # register_user's default


class MailServer:
    """``wait_for(address)`` answers the next mail to ``address`` (a parsed EmailMessage);
    ``refuse_with`` makes the server answer DATA with that SMTP status line instead."""

    def __init__(self, **controller_options):
        """``controller_options``: aiosmtpd's Controller options (``tls_context`` for STARTTLS,
        ``ssl_context`` for implicit TLS, ``authenticator``...)."""
        self.received: list[email.message.EmailMessage] = []
        self.refuse_with: str | None = None
        self.arrived = threading.Condition()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     **controller_options)
        self.controller.start()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with is not None:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        # How it came: over TLS (STARTTLS or implicit), and as which SMTP AUTH login.
        message.over_tls = server.transport.get_extra_info("ssl_object") is not None
        message.login = session.auth_data
        with self.arrived:
            self.received.append(message)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, address: str, timeout_s: float = 30.0):
        """The first mail to ``address`` not taken before (waits for it to arrive)."""
        def find():
            for message in self.received:
                if message["To"] == address and not getattr(message, "taken", False):
                    return message
            return None
        with self.arrived:
            self.arrived.wait_for(lambda: find() is not None, timeout_s)
            found = find()
        assert found is not None, f"no mail to {address} arrived"
        found.taken = True
        return found

    def count_to(self, address: str) -> int:
        with self.arrived:
            return sum(1 for message in self.received if message["To"] == address)

    def close(self):
        self.controller.stop()


def email_settings(server: MailServer, **extra) -> dict:
    return {"smtp_host": "127.0.0.1", "smtp_port": server.port,
            "notif_from": "Test Server <noreply@example.org>", "app_name": "Testrix", **extra}


def link_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"(http\S*)", body).group(1)


def code_in(message) -> str:
    body = message.get_body(("plain",)).get_content()
    return re.search(r"enter: (\S+)", body).group(1)


def request_token(client, path: str, address: str, secret: str = "s3cret", attempt: int = 1,
                  **extra):
    return client.post(f"{V3}{path}", json={"client_secret": secret, "email": address,
                                             "send_attempt": attempt, **extra})


def follow(client, link: str, method: str = "GET", **kw):
    """Open a link of the mail (it names the public base URL) on the test client."""
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == "http://localhost:8008"
    return client.open(f"{parts.path}?{parts.query}", method=method, **kw)


def validate(client, mail_server, address, path=ADD_TOKEN, secret="s3cret"):  # noqa: F811
    sid = ok(request_token(client, path, address, secret))["sid"]
    link = link_in(mail_server.wait_for(address))
    page = follow(client, link)
    if path == RESET_TOKEN:  # its page asks for confirmation: press the button
        assert "Reset your password?" in page.get_data(True)
        page = client.post("/_homeserver/email/validate", data=link_query(link))
    assert page.status_code == 200 and "Email address validated" in page.get_data(True)
    return {"sid": sid, "client_secret": secret}


def link_query(link: str) -> dict:
    return dict(parse_qsl(urlsplit(link).query))


def password_auth(user, session):
    return {"type": "m.login.password", "session": session, "password": PASSWORD,
            "identifier": {"type": "m.id.user", "user": user.user_id}}


def add_address(user, creds):
    first = user.post(f"{V3}/account/3pid/add", json=creds)
    assert first.status_code == 401
    assert first.get_json()["flows"] == [{"stages": ["m.login.password"]}]
    session = first.get_json()["session"]
    return user.post(f"{V3}/account/3pid/add",
                     json={**creds, "auth": password_auth(user, session)})


def wait_until(condition, timeout_s=30.0):
    """Polls ``condition`` (for what only the database shows, e.g. a failed attempt)."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def mail_server():
    server = MailServer()
    yield server
    server.close()
