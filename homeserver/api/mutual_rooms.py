"""GET /_matrix/client/v1/mutual_rooms (spec module "Mutual Rooms")."""

from flask import Blueprint, jsonify

from ..schemas.admin import MutualRoomsArgs
from ..services.users import mutual_rooms
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("mutual_rooms", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v1/mutual_rooms")
def get_mutual_rooms():
    requester = require_auth()
    args = load_args(MutualRoomsArgs)
    return jsonify(mutual_rooms.mutual_rooms(requester.user_id, args["user_id"],
                                             args["from_token"]))
