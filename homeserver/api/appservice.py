"""The client-server endpoints only application services call (spec: Application Service
Ping API): POST /_matrix/client/v1/appservice/{appserviceId}/ping."""

from flask import Blueprint, jsonify

from ..schemas.appservice import PingBody
from ..services.appservice import ping as ping_service
from .http import CLIENT_PREFIX, load_body, require_app_service

bp = Blueprint("appservice", __name__, url_prefix=f"{CLIENT_PREFIX}/v1")


@bp.post("/appservice/<appservice_id>/ping")
def ping(appservice_id):
    service = require_app_service()
    body = load_body(PingBody)
    return jsonify(ping_service.ping(service, appservice_id, body["transaction_id"]))
