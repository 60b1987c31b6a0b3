"""One log line per request (logger ``homeserver.access``) and its request ID.

The ID is made here for every request (one a client sends is not used: it could collide or be
forged) and returned as ``X-Request-Id``, so a user's report can be matched to the log line.
The line names the request by what is safe to log: method, Flask endpoint, the path without its
query string (which may carry ``access_token``), status, duration, and who asked (user and
device once authenticated, client address). Never headers or bodies.
"""

from __future__ import annotations

import logging
import secrets
import time
from urllib.parse import quote

from flask import Flask, g, request

logger = logging.getLogger("homeserver.access")

REQUEST_ID_HEADER = "X-Request-Id"
# Re-encode the decoded path so that a line stays one line (no spaces, newlines, quotes).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def install(app: Flask) -> None:
    """Call from create_app before its own hooks (so the line covers them)."""

    @app.before_request
    def _start():
        g.request_id = secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def _log(response):
        request_id = g.get("request_id")
        if request_id is None:
            return response
        response.headers[REQUEST_ID_HEADER] = request_id
        if not logger.isEnabledFor(logging.INFO):
            return response
        duration_ms = (time.perf_counter() - g.request_started) * 1000
        requester = g.get("requester")
        fields = {
            "request_id": request_id,
            "method": request.method,
            "endpoint": request.endpoint or "unmatched",
            "path": quote(request.path, safe=_PATH_SAFE),
            "status": response.status_code,
            "duration_ms": round(duration_ms, 1),
            "user": requester.user_id if requester is not None else None,
            "device": requester.device_id if requester is not None else None,
            "ip": request.remote_addr,
        }
        logger.info(" ".join(f"{key}={'-' if value is None else value}"
                             for key, value in fields.items()),
                    extra={"fields": fields})
        return response
