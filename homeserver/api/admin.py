"""Server administration (spec module "Server Administration"): account locking and
suspension (server admins only), and whois (admins, or the user themselves)."""

from flask import Blueprint, jsonify

from ..schemas.admin import LockBody, SuspendBody
from ..services.accounts import admin
from .http import CLIENT_PREFIX, config, load_body, require_auth

bp = Blueprint("admin", __name__, url_prefix=CLIENT_PREFIX)


@bp.get("/v1/admin/lock/<path:user_id>")
def get_lock(user_id):
    requester = require_auth()
    return jsonify(admin.get_flag(requester, user_id, "locked", config().server_name))


@bp.put("/v1/admin/lock/<path:user_id>")
def set_lock(user_id):
    requester = require_auth()
    admin.require_admin(requester)  # before looking at the body or the account
    body = load_body(LockBody)
    return jsonify(admin.set_flag(requester, user_id, "locked", body["locked"],
                                  config().server_name))


@bp.get("/v1/admin/suspend/<path:user_id>")
def get_suspension(user_id):
    requester = require_auth()
    return jsonify(admin.get_flag(requester, user_id, "suspended", config().server_name))


@bp.put("/v1/admin/suspend/<path:user_id>")
def set_suspension(user_id):
    requester = require_auth()
    admin.require_admin(requester)  # before looking at the body or the account
    body = load_body(SuspendBody)
    return jsonify(admin.set_flag(requester, user_id, "suspended", body["suspended"],
                                  config().server_name))


@bp.get("/v3/admin/whois/<path:user_id>")
def whois(user_id):
    requester = require_auth()
    return jsonify(admin.whois(requester, user_id))
