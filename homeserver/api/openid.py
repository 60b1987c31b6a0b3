"""POST /v3/user/{userId}/openid/request_token."""

from flask import Blueprint, jsonify

from ..services.accounts import openid
from .http import CLIENT_PREFIX, config, json_body, require_auth

bp = Blueprint("openid", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.post("/user/<path:user_id>/openid/request_token")
def request_openid_token(user_id: str):
    requester = require_auth()
    json_body()  # an empty object, reserved for future expansion
    return jsonify(openid.request_token(requester.user_id, user_id, config().server_name))
