"""GET /_matrix/client/v3/capabilities."""

from flask import Blueprint, jsonify

from ..services.accounts import admin
from ..services.server import capabilities as capabilities_service
from .http import CLIENT_PREFIX, config, require_auth

bp = Blueprint("capabilities", __name__)


@bp.get(f"{CLIENT_PREFIX}/v3/capabilities")
def get_capabilities():
    requester = require_auth()
    return jsonify({"capabilities": {**capabilities_service.capabilities(
                                         requester, email=config().email is not None),
                                     **admin.moderation_capability(requester)}})
