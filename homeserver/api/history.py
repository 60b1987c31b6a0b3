"""Reading history: GET /rooms/{roomId}/messages, /rooms/{roomId}/context/{eventId},
/v1/rooms/{roomId}/timestamp_to_event."""

from flask import Blueprint, jsonify

from ..schemas.history import ContextArgs, MessagesArgs, TimestampArgs
from ..services.reading import messages
from .filters import room_event_filter_arg
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("history", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v3/rooms/<room_id>/messages")
def get_messages(room_id: str):
    requester = require_auth()
    args = load_args(MessagesArgs)
    return jsonify(messages.messages(
        requester.user_id, requester.device_id, room_id, direction=args["dir"],
        from_token=args.get("from_token") or None, to_token=args.get("to") or None,
        limit=args.get("limit"), filter_ref=room_event_filter_arg(args.get("filter"))))


@bp.get("/v3/rooms/<room_id>/context/<event_id>")
def get_context(room_id: str, event_id: str):
    requester = require_auth()
    args = load_args(ContextArgs)
    return jsonify(messages.context(
        requester.user_id, requester.device_id, room_id, event_id, limit=args.get("limit"),
        filter_ref=room_event_filter_arg(args.get("filter"))))


@bp.get("/v1/rooms/<room_id>/timestamp_to_event")
def timestamp_to_event(room_id: str):
    requester = require_auth()
    args = load_args(TimestampArgs)
    return jsonify(messages.event_at_timestamp(requester.user_id, room_id, args["ts"],
                                               args["dir"]))
