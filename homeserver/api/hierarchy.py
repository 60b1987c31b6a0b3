"""GET /v1/rooms/{roomId}/hierarchy."""

from flask import Blueprint, jsonify

from ..schemas.hierarchy import HierarchyArgs
from ..services.reading import hierarchy
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("hierarchy", __name__, url_prefix=f"{CLIENT_PREFIX}/v1/rooms/<room_id>")


@bp.get("/hierarchy")
def get_space_hierarchy(room_id: str):
    requester = require_auth()
    args = load_args(HierarchyArgs)
    return jsonify(hierarchy.hierarchy(
        requester.user_id, room_id, suggested_only=args["suggested_only"],
        limit=args.get("limit"), max_depth=args.get("max_depth"),
        from_token=args.get("from_token") or None))
