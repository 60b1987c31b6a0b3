"""Helpers for the pusher tests: a push gateway run by the test."""

import json
import threading
from http.server import BaseHTTPRequestHandler


from helpers.local_http import LocalHTTPServer


class Gateway:
    """A push gateway on 127.0.0.1 that records what it receives. ``statuses`` are the HTTP
    statuses of the next answers (then 200); ``reject`` lists pushkeys to answer as rejected."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.received: list[dict] = []
        self.statuses: list[int] = []
        self.reject: set[str] = set()
        self.arrived = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with gateway.arrived:
                    status = gateway.statuses.pop(0) if gateway.statuses else 200
                    if status == 200:
                        gateway.received.append({"path": self.path, "body": body})
                        gateway.arrived.notify_all()
                devices = body.get("notification", {}).get("devices", [])
                rejected = [d["pushkey"] for d in devices if d["pushkey"] in gateway.reject]
                payload = json.dumps({"rejected": rejected}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = LocalHTTPServer((host, port), Handler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}/_matrix/push/v1/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @classmethod
    def on_port(cls, port: int) -> "Gateway":
        return cls(port)

    def wait_for(self, count: int, timeout_s: float = 30.0) -> list[dict]:
        """The first ``count`` notifications (waits for them to arrive, up to the timeout)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout_s)
            return list(self.received)

    def close(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
