"""Synapse's admin API for rooms (``/_synapse/admin``), for server admins only (docs/admin-api.md).

    GET    /v1/rooms                   paged: from, limit, order_by, dir, search_term,
                                       public_rooms, empty_rooms
    GET    /v1/rooms/{roomId}          and /members, /state
    GET|PUT /v1/rooms/{roomId}/block   {"block": bool}
    DELETE /v1/rooms/{roomId}          {"block", "purge", "force_purge", "message"}: the result
    DELETE /v2/rooms/{roomId}          the same, answering {"delete_id"}
    GET    /v2/rooms/{roomId}/delete_status, /v2/rooms/delete_status/{delete_id}
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.synapse_admin import MAX_PAGE, BlockRoomBody, DeleteRoomBody, RoomListArgs
from ..services.reading import admin_rooms
from ..services.rooms import blocked_rooms
from ..services.writing import room_shutdown
from .http import json_body, load_args, load_body, require_server_admin

bp = Blueprint("synapse_admin_rooms", __name__, url_prefix="/_synapse/admin")


@bp.get("/v1/rooms")
def list_rooms():
    require_server_admin()
    args = load_args(RoomListArgs)
    return jsonify(admin_rooms.list_rooms(admin_rooms.RoomQuery(
        offset=args["offset"], limit=min(args["limit"], MAX_PAGE), order_by=args["order_by"],
        backwards=args["dir"] == "b", search_term=args["search_term"],
        public_rooms=args["public_rooms"], empty_rooms=args["empty_rooms"])))


@bp.get("/v1/rooms/<room_id>")
def room(room_id):
    require_server_admin()
    return jsonify(admin_rooms.room_details(room_id))


@bp.get("/v1/rooms/<room_id>/members")
def members(room_id):
    require_server_admin()
    return jsonify(admin_rooms.members(room_id))


@bp.get("/v1/rooms/<room_id>/state")
def state(room_id):
    require_server_admin()
    return jsonify(admin_rooms.state(room_id))


@bp.get("/v1/rooms/<room_id>/block")
def block_status(room_id):
    require_server_admin()
    return jsonify(blocked_rooms.block_status(room_id))


@bp.put("/v1/rooms/<room_id>/block")
def block(room_id):
    requester = require_server_admin()
    body = load_body(BlockRoomBody)
    return jsonify(blocked_rooms.set_blocked(room_id, requester.user_id, body["block"]))


def _delete(room_id: str) -> str:
    requester = require_server_admin()
    body = load_body(DeleteRoomBody, json_body(allow_empty=True))
    if body["new_room_user_id"] is not None:
        raise errors.InvalidParam("new_room_user_id is not supported by this server")
    return room_shutdown.delete_room(room_id, requester.user_id, block=body["block"],
                                     purge=body["purge"], force_purge=body["force_purge"],
                                     message=body["message"])


@bp.delete("/v1/rooms/<room_id>")
def delete_now(room_id):
    return jsonify(room_shutdown.delete_status(_delete(room_id))["shutdown_room"])


@bp.delete("/v2/rooms/<room_id>")
def delete(room_id):
    return jsonify({"delete_id": _delete(room_id)})


@bp.get("/v2/rooms/<room_id>/delete_status")
def room_delete_status(room_id):
    require_server_admin()
    return jsonify(room_shutdown.room_delete_statuses(room_id))


@bp.get("/v2/rooms/delete_status/<delete_id>")
def delete_status(delete_id):
    require_server_admin()
    return jsonify(room_shutdown.delete_status(delete_id))
