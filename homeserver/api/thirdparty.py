"""Third-party lookups: /_matrix/client/v3/thirdparty/... (this server bridges no network;
see services/server/thirdparty.py)."""

from flask import Blueprint, jsonify

from ..schemas.admin import AliasArgs, UserIdArgs
from ..services.server import thirdparty
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("thirdparty", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/thirdparty")


@bp.get("/protocols")
def get_protocols():
    require_auth()
    return jsonify(thirdparty.protocols())


@bp.get("/protocol/<protocol>")
def get_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.protocol(protocol))


@bp.get("/location/<protocol>")
def location_by_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.locations_for_protocol(protocol))


@bp.get("/user/<protocol>")
def user_by_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.users_for_protocol(protocol))


@bp.get("/location")
def location_by_alias():
    require_auth()
    args = load_args(AliasArgs())
    return jsonify(thirdparty.locations_for_alias(args["alias"]))


@bp.get("/user")
def user_by_id():
    require_auth()
    args = load_args(UserIdArgs())
    return jsonify(thirdparty.users_for_user_id(args["userid"]))
