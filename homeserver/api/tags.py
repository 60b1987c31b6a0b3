"""Room Tagging: GET /user/{userId}/rooms/{roomId}/tags, PUT/DELETE .../tags/{tag}."""

from flask import Blueprint, jsonify

from ..schemas.account_data import TagSchema
from ..services.userdata import tags
from .http import CLIENT_PREFIX, config, load_body, require_auth

bp = Blueprint("room_tags", __name__,
               url_prefix=f"{CLIENT_PREFIX}/v3/user/<user_id>/rooms/<room_id>/tags")


@bp.get("")
def get_tags(user_id, room_id):
    requester = require_auth()
    return jsonify(tags.get_tags(requester.user_id, user_id, room_id))


@bp.put("/<tag>")
def set_tag(user_id, room_id, tag):
    requester = require_auth()
    body = load_body(TagSchema)
    tags.set_tag(requester.user_id, user_id, room_id, tag, body, config().per_user_limits)
    return jsonify({})


@bp.delete("/<tag>")
def delete_tag(user_id, room_id, tag):
    requester = require_auth()
    tags.delete_tag(requester.user_id, user_id, room_id, tag)
    return jsonify({})
