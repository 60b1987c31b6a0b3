"""Synapse's admin API for accounts (``/_synapse/admin``), for server admins only: the paths
and shapes synapse-admin, scripts and Ansible roles use (docs/admin-api.md lists them).

    GET  /v2/users                         paged: from, limit, name, user_id, guests, admins,
                                           deactivated, locked, order_by, dir
    GET  /v2/users/{userId}                PUT creates (201) or modifies (200)
    POST /v1/deactivate/{userId}           {"erase": bool}
    POST /v1/reset_password/{userId}       {"new_password", "logout_devices"}
    GET  /v1/users/{userId}/joined_rooms
    GET  /v2/users/{userId}/devices        also GET/DELETE .../devices/{deviceId},
                                           POST /v2/users/{userId}/delete_devices
    GET  /v1/whois/{userId}
    GET|POST /v1/register                  shared-secret registration (no access token)
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..schemas.synapse_admin import (MAX_PAGE, DeactivateBody, DeleteDevicesBody,
                                     ResetPasswordBody, SharedSecretRegisterBody, UserBody,
                                     UserListArgs)
from ..services.accounts import admin, admin_users, shared_secret_registration
from ..services.rooms import state as room_state
from .http import client_ip, config, json_body, load_args, load_body, require_server_admin
from .media import media_store

bp = Blueprint("synapse_admin_users", __name__, url_prefix="/_synapse/admin")


def _user(user_id: str) -> str:
    """The path's user after the admin check: 400 unless local, 404 unless known."""
    return admin_users.existing_user(user_id, config().server_name).user_id


@bp.get("/v2/users")
def list_users():
    require_server_admin()
    args = load_args(UserListArgs)
    return jsonify(admin_users.list_users(admin_users.UserQuery(
        offset=args["offset"], limit=min(args["limit"], MAX_PAGE), user_id=args["user_id"],
        name=args["name"], admins=args["admins"], guests=args["guests"],
        deactivated=args["deactivated"],
        locked=args["locked"], order_by=args["order_by"], backwards=args["dir"] == "b")))


@bp.get("/v2/users/<path:user_id>")
def get_user(user_id):
    require_server_admin()
    return jsonify(admin_users.get_user(user_id, config().server_name))


@bp.put("/v2/users/<path:user_id>")
def put_user(user_id):
    requester = require_server_admin()
    body = load_body(UserBody)
    given = {key: value for key, value in body.items() if key in json_body()}
    described, created = admin_users.put_user(requester.user_id, user_id, given,
                                               config().server_name, media_store())
    return jsonify(described), 201 if created else 200


@bp.post("/v1/deactivate/<path:user_id>")
def deactivate(user_id):
    require_server_admin()
    body = load_body(DeactivateBody, json_body(allow_empty=True))
    return jsonify(admin_users.deactivate(_user(user_id), erase=body["erase"],
                                          media_store=media_store()))


@bp.post("/v1/reset_password/<path:user_id>")
def reset_password(user_id):
    require_server_admin()
    body = load_body(ResetPasswordBody)
    admin_users.reset_password(_user(user_id), body["new_password"],
                               logout_devices=body["logout_devices"])
    return jsonify({})


@bp.get("/v1/users/<path:user_id>/joined_rooms")
def joined_rooms(user_id):
    require_server_admin()
    rooms = room_state.joined_rooms(_user(user_id))
    return jsonify({"joined_rooms": rooms, "total": len(rooms)})


@bp.get("/v2/users/<path:user_id>/devices")
def devices(user_id):
    require_server_admin()
    return jsonify(admin_users.user_devices(_user(user_id)))


@bp.get("/v2/users/<path:user_id>/devices/<device_id>")
def device(user_id, device_id):
    require_server_admin()
    return jsonify(admin_users.user_device(_user(user_id), device_id))


@bp.delete("/v2/users/<path:user_id>/devices/<device_id>")
def delete_device(user_id, device_id):
    require_server_admin()
    admin_users.delete_devices(_user(user_id), [device_id])
    return jsonify({})


@bp.post("/v2/users/<path:user_id>/delete_devices")
def delete_devices(user_id):
    require_server_admin()
    body = load_body(DeleteDevicesBody)
    admin_users.delete_devices(_user(user_id), body["devices"])
    return jsonify({})


@bp.get("/v1/whois/<path:user_id>")
def whois(user_id):
    requester = require_server_admin()
    return jsonify(admin.whois(requester, _user(user_id)))


@bp.get("/v1/register")
def registration_nonce():
    return jsonify(shared_secret_registration.new_nonce(config().registration["shared_secret"]))


@bp.post("/v1/register")
def register_with_shared_secret():
    body = load_body(SharedSecretRegisterBody)
    return jsonify(shared_secret_registration.register(
        config().registration["shared_secret"], body, server_name=config().server_name,
        ip=client_ip()))
