"""GET /v1/rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]."""

from flask import Blueprint, jsonify

from ..schemas.relations import RelationsArgs
from ..services.reading import relations
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("relations", __name__, url_prefix=f"{CLIENT_PREFIX}/v1/rooms/<room_id>")


@bp.get("/relations/<event_id>", defaults={"rel_type": None, "event_type": None})
@bp.get("/relations/<event_id>/<rel_type>", defaults={"event_type": None})
@bp.get("/relations/<event_id>/<rel_type>/<event_type>")
def get_relating_events(room_id: str, event_id: str, rel_type, event_type):
    requester = require_auth()
    args = load_args(RelationsArgs)
    return jsonify(relations.relating_events(
        requester.user_id, requester.device_id, room_id, event_id, rel_type=rel_type,
        event_type=event_type, from_token=args.get("from_token") or None,
        to_token=args.get("to") or None, limit=args.get("limit"), direction=args["dir"],
        recurse=args.get("recurse")))
