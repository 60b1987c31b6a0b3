"""Pushers: GET /pushers and POST /pushers/set."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.push import PusherBody
from ..services.push import pushers
from .http import CLIENT_PREFIX, config, load_body, require_auth

bp = Blueprint("pushers", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/pushers")


@bp.get("")
def get_pushers():
    requester = require_auth()
    return jsonify({"pushers": pushers.list_pushers(requester.user_id)})


@bp.post("/set")
def set_pusher():
    requester = require_auth()
    body = load_body(PusherBody, missing_errcode=errors.MissingParam)
    email = config().email
    pushers.set_pusher(requester.user_id, requester.device_id, body,
                       allow_http=config().push["allow_http_gateways"],
                       allow_email=email is not None and email["enable_notifs"])
    return jsonify({})
