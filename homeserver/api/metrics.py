"""GET /metrics (Prometheus text format) and the request hooks that feed it.

Routed only with ``metrics.enabled: true`` (otherwise /metrics is an unknown path: 404
M_UNRECOGNIZED). It is served on the server's own listener; README's nginx block does not
proxy it, so it stays internal. The blueprint is deliberately not named ``bp``: it is
registered by ``install``, not by ``register_blueprints``.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, g, request

from ..services.server import metrics

metrics_bp = Blueprint("metrics", __name__)

SYNC_ENDPOINT = "sync.sync"
UNMATCHED = "unmatched"


@metrics_bp.get("/metrics")
def scrape():
    body, content_type = metrics.render()
    return body, 200, {"Content-Type": content_type, "Cache-Control": "no-store"}


def install(app: Flask, config, database) -> None:
    """Call from create_app before its own hooks, so that timing covers them and the pool
    gauge is read after the request's connection went back (teardowns run in reverse)."""
    metrics.record_pool_size(database)
    if not config.metrics["enabled"]:
        return
    app.register_blueprint(metrics_bp)

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("metrics_started", None)
        endpoint = request.endpoint or UNMATCHED
        metrics.request_done(endpoint, response.status_code,
                             time.perf_counter() - started if started is not None else None)
        if endpoint == SYNC_ENDPOINT and response.content_length is not None:
            metrics.SYNC_RESPONSE_BYTES.observe(response.content_length)
        return response

    @app.teardown_request
    def _pool_after(exc):
        metrics.record_pool_in_use(database)
