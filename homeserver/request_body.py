"""Reading what a view left unread of a request body before its response goes out.

A view may answer without reading the body: 413 M_TOO_LARGE from the Content-Length alone, 401
for an upload with an expired token, 403 over a quota. gunicorn then closes the connection with
the unread bytes on it, which resets it; nginx, still sending it the body it buffered, loses the
response and answers 502 (a client retries that, instead of refreshing its token or giving up).
"""

from __future__ import annotations

CHUNK = 64 * 1024


class DrainUnreadBody:
    """WSGI middleware: after the application has answered, and before the answer is sent, read
    and drop the rest of a request body of declared length up to ``max_bytes``. A body declared
    larger, or of unknown length (chunked), is left alone: the connection closes as before
    (nginx sends every body with its length, and its client_max_body_size stops larger ones)."""

    def __init__(self, wsgi_app, max_bytes: int):
        self.wsgi_app = wsgi_app
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        result = self.wsgi_app(environ, start_response)
        # Only where the server ends the input at the body's end (gunicorn does): elsewhere a
        # read past the body would wait for the client's next request.
        if environ.get("wsgi.input_terminated"):
            self._drain(environ)
        return result

    def _drain(self, environ) -> None:
        try:
            declared = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return
        if not 0 < declared <= self.max_bytes:
            return
        stream = environ["wsgi.input"]
        drained = 0
        try:
            while drained < declared:
                chunk = stream.read(CHUNK)
                if not chunk:
                    return
                drained += len(chunk)
        except Exception:  # noqa: BLE001 - a client gone or a broken chunk: the answer stands
            return
