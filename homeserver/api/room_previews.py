"""Room previews: GET /rooms/{roomId}/initialSync (GET /events?room_id= is in legacy_sync.py,
beside the rest of GET /events)."""

from flask import Blueprint, jsonify

from ..schemas.room_previews import RoomInitialSyncArgs
from ..services.reading import room_previews
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("room_previews", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.get("/rooms/<room_id>/initialSync")
def room_initial_sync(room_id: str):
    requester = require_auth()
    args = load_args(RoomInitialSyncArgs)
    return jsonify(room_previews.room_initial_sync(
        requester.user_id, requester.device_id, room_id, limit=args.get("limit")))
