"""Room aliases and the published room directory: /directory/room/{roomAlias},
/rooms/{roomId}/aliases, /directory/list/room/{roomId}, /publicRooms."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.rooms import (AliasSchema, PublicRoomsArgs, PublicRoomsBodySchema,
                             VisibilitySchema)
from ..services.appservice import queries
from ..services.reading import room_lookups
from ..services.rooms import aliases, directory
from ..services.writing import alias_changes
from .http import (CLIENT_PREFIX, config, json_body, load_args, load_body, optional_auth,
                   require_app_service, require_auth)

bp = Blueprint("directory", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.put("/directory/room/<room_alias>")
def set_room_alias(room_alias):
    requester = require_auth()
    body = load_body(AliasSchema)
    service = requester.app_service
    config().app_services.check_alias_not_reserved(room_alias, service)
    # A service makes the rooms of its aliases without being in them (Synapse: the same).
    alias_changes.create(requester.user_id, room_alias, body["room_id"],
                   need_membership=service is None or not service.is_interested_in_alias(
                       room_alias))
    return jsonify({})


@bp.get("/directory/room/<room_alias>")
def get_room_alias(room_alias):
    # Spec: getRoomIdByAlias needs no access token (nor does Synapse's); clients resolve an
    # alias before logging in, e.g. to preview a room.
    optional_auth()
    queries.ensure_alias(config().app_services, room_alias, config().server_name)
    return jsonify(aliases.lookup(room_alias))


@bp.delete("/directory/room/<room_alias>")
def delete_room_alias(room_alias):
    requester = require_auth()
    # A service may delete the aliases of its namespaces, whoever made them (as Synapse).
    owner = requester.app_service is not None and requester.app_service.is_interested_in_alias(
        room_alias)
    alias_changes.delete(requester.user_id, room_alias, is_admin=requester.is_admin or owner)
    return jsonify({})


@bp.get("/rooms/<room_id>/aliases")
def get_local_aliases(room_id):
    requester = require_auth()
    return jsonify({"aliases": room_lookups.local_aliases(requester.user_id, room_id)})


@bp.get("/directory/list/room/<room_id>")
def get_visibility(room_id):
    return jsonify({"visibility": directory.get_visibility(room_id)})


@bp.put("/directory/list/room/<room_id>")
def set_visibility(room_id):
    requester = require_auth()
    body = load_body(VisibilitySchema, json_body(allow_empty=True))
    directory.set_visibility(requester.user_id, room_id, body["visibility"],
                             is_admin=requester.is_admin)
    return jsonify({})


def _check_server(server: str | None) -> None:
    if server is not None and server != config().server_name:
        raise errors.InvalidParam("This server does not federate: it lists only its own "
                                  "room directory")


@bp.get("/publicRooms")
def get_public_rooms():
    optional_auth()
    args = load_args(PublicRoomsArgs)
    _check_server(args["server"])
    return jsonify(directory.public_rooms(limit=args["limit"], since=args["since"]))


@bp.post("/publicRooms")
def query_public_rooms():
    require_auth()
    args = load_args(PublicRoomsArgs)
    _check_server(args["server"])
    body = load_body(PublicRoomsBodySchema, json_body(allow_empty=True))
    search = body["filter"] or {}
    return jsonify(directory.public_rooms(
        limit=body["limit"], since=body["since"],
        search=search.get("generic_search_term"), room_types=search.get("room_types"),
        third_party_instance_id=body["third_party_instance_id"],
        include_all_networks=body["include_all_networks"]))


@bp.put("/directory/list/appservice/<network_id>/<room_id>")
def set_network_visibility(network_id, room_id):
    """An application service's own room directory of one network (spec: Application Service
    API, "Published room directories")."""
    service = require_app_service()
    body = load_body(VisibilitySchema, json_body(allow_empty=True))
    directory.set_network_visibility(service.id, network_id, room_id, body["visibility"])
    return jsonify({})


@bp.delete("/directory/list/appservice/<network_id>/<room_id>")
def remove_from_network(network_id, room_id):
    """Unlisting by DELETE, as Synapse (and SyTest) also accept."""
    service = require_app_service()
    directory.set_network_visibility(service.id, network_id, room_id, "private")
    return jsonify({})
