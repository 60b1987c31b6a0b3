"""Client Config: PUT/GET /user/{userId}[/rooms/{roomId}]/account_data/{type}."""

from flask import Blueprint, jsonify

from ..services.userdata import account_data
from ..services.users import account_data_reads
from .http import CLIENT_PREFIX, config, json_body, require_auth

bp = Blueprint("account_data", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/user/<user_id>")


@bp.put("/account_data/<data_type>")
def set_global(user_id, data_type):
    requester = require_auth()
    account_data.set_for_client(requester.user_id, user_id, data_type, json_body(),
                                limits=config().per_user_limits)
    return jsonify({})


@bp.get("/account_data/<data_type>")
def get_global(user_id, data_type):
    requester = require_auth()
    return jsonify(account_data_reads.get_for_client(requester.user_id, user_id, data_type))


@bp.put("/rooms/<room_id>/account_data/<data_type>")
def set_room(user_id, room_id, data_type):
    requester = require_auth()
    account_data.set_for_client(requester.user_id, user_id, data_type, json_body(),
                                room_id=room_id, limits=config().per_user_limits)
    return jsonify({})


@bp.get("/rooms/<room_id>/account_data/<data_type>")
def get_room(user_id, room_id, data_type):
    requester = require_auth()
    return jsonify(account_data_reads.get_for_client(requester.user_id, user_id, data_type,
                                                     room_id=room_id))
