"""GET /_matrix/client/versions and the server discovery document."""

from flask import Blueprint, jsonify

from ..services.server import server_info
from .http import config, optional_auth

bp = Blueprint("versions", __name__)


@bp.get("/_matrix/client/versions")
def versions():
    # A token is optional here, but a bad one is still reported (clients use this to check it).
    optional_auth()
    return jsonify(server_info.versions())


@bp.get("/.well-known/matrix/client")
def well_known_client():
    return jsonify(server_info.well_known_client(config().base_url))
