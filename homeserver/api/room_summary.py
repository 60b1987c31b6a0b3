"""GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (spec: "Room Summaries").

The token is optional: the spec lets servers answer without one for rooms anyone may
preview (see services/reading/room_summary.py). ``via`` is accepted and unused: this server
summarises only rooms it hosts.
"""

from flask import Blueprint, jsonify

from ..services.reading import room_summary
from .http import CLIENT_PREFIX, optional_auth

bp = Blueprint("room_summary", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v1/room_summary/<path:room_id_or_alias>")
def get_room_summary(room_id_or_alias):
    requester = optional_auth()
    user_id = requester.user_id if requester is not None else None
    return jsonify(room_summary.room_summary(user_id, room_id_or_alias))
