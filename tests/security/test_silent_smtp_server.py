"""Attack (or outage): an SMTP server that accepts connections and never speaks. Requests must
not wait for it: they only queue the mail, which waits in the outbox; the sender thread gives
up each attempt after email.smtp_timeout_s.
"""

import socket
import threading

from homeserver.models.email import OutgoingMail
from mail_support import request_token
from rooms_support import ok


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
