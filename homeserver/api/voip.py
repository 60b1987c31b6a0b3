"""GET /_matrix/client/v3/voip/turnServer (spec module "Voice over IP")."""

from flask import Blueprint, jsonify

from ..services.server import turn
from .http import CLIENT_PREFIX, config, require_auth

bp = Blueprint("voip", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v3/voip/turnServer")
def turn_server():
    requester = require_auth()
    return jsonify(turn.credentials(config().turn, requester.user_id))
