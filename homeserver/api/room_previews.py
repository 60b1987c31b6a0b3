"""Room previews: GET /rooms/{roomId}/initialSync and GET /events?room_id= (peekEvents).

Without ``room_id``, /events is the deprecated getEvents, which is not implemented.
"""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.room_previews import PeekEventsArgs, RoomInitialSyncArgs
from ..services.reading import room_previews
from .http import CLIENT_PREFIX, config, load_args, require_auth

bp = Blueprint("room_previews", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.get("/rooms/<room_id>/initialSync")
def room_initial_sync(room_id: str):
    requester = require_auth()
    args = load_args(RoomInitialSyncArgs())
    return jsonify(room_previews.room_initial_sync(
        requester.user_id, requester.device_id, room_id, limit=args.get("limit")))


@bp.get("/events")
def peek_events():
    requester = require_auth()
    args = load_args(PeekEventsArgs())
    if not args.get("room_id"):
        raise errors.Unrecognized("Unrecognized request: /events needs a room_id "
                                  "(the global event stream is not implemented; use /sync)")
    return jsonify(room_previews.peek_events(
        requester.user_id, requester.device_id, args["room_id"],
        from_token=args.get("from_token") or None, timeout_ms=args.get("timeout"),
        limits=config().per_user_limits))
