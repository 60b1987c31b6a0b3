"""The v1 sync APIs the spec deprecated in r0 (old_sync.yaml, peeking_events.yaml): GET /events
(getEvents; with room_id, peekEvents), GET /initialSync, GET /events/{eventId} (getOneEvent)."""

from flask import Blueprint, jsonify

from ..schemas.room_previews import EventsArgs, InitialSyncArgs
from ..services.legacy_sync import event_stream, initial_sync
from ..services.reading import room_lookups
from .http import CLIENT_PREFIX, config, load_args, require_auth

bp = Blueprint("legacy_sync", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.get("/events")
def get_events():
    requester = require_auth()
    args = load_args(EventsArgs)
    return jsonify(event_stream.events(
        requester.user_id, requester.device_id, room_id=args.get("room_id") or None,
        from_token=args.get("from_token") or None, timeout_ms=args.get("timeout"),
        limit=args.get("limit"), is_guest=requester.is_guest, limits=config().per_user_limits))


@bp.get("/initialSync")
def get_initial_sync():
    requester = require_auth()
    args = load_args(InitialSyncArgs)
    return jsonify(initial_sync.initial_sync(
        requester.user_id, requester.device_id, limit=args.get("limit"),
        archived=args["archived"]))


@bp.get("/events/<path:event_id>")
def get_one_event(event_id: str):
    requester = require_auth()
    return jsonify(room_lookups.get_event(requester.user_id, requester.device_id, None,
                                          event_id))
