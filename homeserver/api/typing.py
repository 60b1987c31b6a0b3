"""Typing Notifications: PUT /rooms/{roomId}/typing/{userId}."""

from flask import Blueprint, jsonify

from ..schemas.ephemeral import TypingBody
from ..services.ephemeral import typing
from .http import CLIENT_PREFIX, load_body, require_auth

bp = Blueprint("typing", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/rooms/<room_id>")


@bp.put("/typing/<user_id>")
def set_typing(room_id, user_id):
    requester = require_auth()
    body = load_body(TypingBody)
    typing.set_typing(requester.user_id, user_id, room_id, body["typing"], body.get("timeout"))
    return jsonify({})
