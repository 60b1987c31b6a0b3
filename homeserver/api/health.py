"""GET /health: 200 "OK" while the database answers, 503 otherwise (as Synapse's /health)."""

from flask import Blueprint

from ..services.server import health

bp = Blueprint("health", __name__)


@bp.get("/health")
def health_check():
    health.check()
    return "OK", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}
