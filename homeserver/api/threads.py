"""GET /v1/rooms/{roomId}/threads."""

from flask import Blueprint, jsonify

from ..schemas.relations import ThreadsArgs
from ..services.reading import threads
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("threads", __name__, url_prefix=f"{CLIENT_PREFIX}/v1/rooms/<room_id>")


@bp.get("/threads")
def get_thread_roots(room_id: str):
    requester = require_auth()
    args = load_args(ThreadsArgs)
    return jsonify(threads.thread_roots(
        requester.user_id, requester.device_id, room_id, include=args["include"],
        from_token=args.get("from_token") or None, limit=args.get("limit")))
