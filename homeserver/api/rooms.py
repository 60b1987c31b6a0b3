"""Rooms: POST /createRoom, /rooms/{roomId}/upgrade, GET /joined_rooms, and the room reads
(/state, /state/{type}/{key}, /members, /joined_members, /event/{eventId})."""

from flask import Blueprint, jsonify

from ..schemas.rooms import CreateRoomSchema, MembersArgs, StateArgs, UpgradeSchema
from ..services.writing import third_party_invites as invites
from ..services.reading import room_lookups
from ..services.reading.stream_tokens import parse_pagination_token
from ..services.streams.positions import current_position
from ..services.writing import create as rooms, upgrade
from .http import CLIENT_PREFIX, config, load_args, load_body, rate_rule, require_auth

bp = Blueprint("rooms", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.post("/createRoom")
def create_room():
    requester = require_auth()
    body = load_body(CreateRoomSchema)
    if isinstance(body.get("room_alias_name"), str):
        config().app_services.check_alias_not_reserved(
            f"#{body['room_alias_name']}:{config().server_name}", requester.app_service)
    room_id = invites.create_room(requester, rooms.RoomRequest(**body),
                                  rate_rule=rate_rule("messages_per_user"))
    return jsonify({"room_id": room_id})


@bp.post("/rooms/<room_id>/upgrade")
def upgrade_room(room_id):
    requester = require_auth()
    body = load_body(UpgradeSchema)
    new_room = upgrade.upgrade_room(requester, room_id, body["new_version"],
                                    additional_creators=body["additional_creators"])
    return jsonify({"replacement_room": new_room})


@bp.get("/joined_rooms")
def joined_rooms():
    requester = require_auth()
    return jsonify({"joined_rooms": room_lookups.joined_rooms(requester.user_id)})


@bp.get("/rooms/<room_id>/state")
def get_state(room_id):
    requester = require_auth()
    return jsonify(room_lookups.get_state(requester.user_id, requester.device_id, room_id))


@bp.get("/rooms/<room_id>/state/<event_type>/", defaults={"state_key": ""},
        strict_slashes=False)
@bp.get("/rooms/<room_id>/state/<event_type>/<path:state_key>")
def get_state_event(room_id, event_type, state_key):
    requester = require_auth()
    args = load_args(StateArgs)
    return jsonify(room_lookups.get_state_event(requester.user_id, requester.device_id, room_id,
                                                event_type, state_key,
                                                as_event=args["format"] == "event"))


@bp.get("/rooms/<room_id>/members")
def get_members(room_id):
    requester = require_auth()
    args = load_args(MembersArgs)
    at = None
    if args["at"] is not None:
        at = parse_pagination_token(args["at"], current_position(), "at")
    chunk = room_lookups.get_members(requester.user_id, requester.device_id, room_id, at=at,
                                     membership=args["membership"],
                                     not_membership=args["not_membership"])
    return jsonify({"chunk": chunk})


@bp.get("/rooms/<room_id>/joined_members")
def get_joined_members(room_id):
    requester = require_auth()
    return jsonify(room_lookups.get_joined_members(requester.user_id, room_id))


@bp.get("/rooms/<room_id>/event/<path:event_id>")
def get_event(room_id, event_id):
    requester = require_auth()
    return jsonify(room_lookups.get_event(requester.user_id, requester.device_id, room_id,
                                          event_id))
