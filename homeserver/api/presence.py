"""Presence: PUT/GET /presence/{userId}/status."""

from flask import Blueprint, jsonify

from ..schemas.ephemeral import PresenceBody
from ..services.ephemeral import presence
from .http import CLIENT_PREFIX, load_body, require_auth

bp = Blueprint("presence", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/presence/<user_id>")


@bp.put("/status")
def set_presence(user_id):
    requester = require_auth()
    body = load_body(PresenceBody)
    presence.set_presence(requester.user_id, user_id, body["presence"], body.get("status_msg"))
    return jsonify({})


@bp.get("/status")
def get_presence(user_id):
    requester = require_auth()
    return jsonify(presence.get_presence(requester.user_id, user_id))
