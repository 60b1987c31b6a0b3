"""Third-party lookups: /_matrix/client/v3/thirdparty/..., answered by the application
services that declare the protocol (see services/appservice/thirdparty.py)."""

from flask import Blueprint, jsonify, request

from ..schemas.admin import AliasArgs, UserIdArgs
from ..services.appservice import thirdparty
from .http import CLIENT_PREFIX, config, load_args, require_auth

bp = Blueprint("thirdparty", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/thirdparty")


def _fields() -> dict:
    """The query's search fields, passed on to the services (credentials are not)."""
    return {key: values for key, values in request.args.lists()
            if key not in ("access_token", "user_id")}


@bp.get("/protocols")
def get_protocols():
    require_auth()
    return jsonify(thirdparty.protocols(config().app_services))


@bp.get("/protocol/<protocol>")
def get_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.protocol(config().app_services, protocol))


@bp.get("/location/<protocol>")
def location_by_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.locations_for_protocol(config().app_services, protocol,
                                                         _fields()))


@bp.get("/user/<protocol>")
def user_by_protocol(protocol):
    require_auth()
    return jsonify(thirdparty.users_for_protocol(config().app_services, protocol, _fields()))


@bp.get("/location")
def location_by_alias():
    require_auth()
    args = load_args(AliasArgs)
    return jsonify(thirdparty.locations_for_alias(config().app_services, args["alias"]))


@bp.get("/user")
def user_by_id():
    require_auth()
    args = load_args(UserIdArgs)
    return jsonify(thirdparty.users_for_user_id(config().app_services, args["userid"]))
