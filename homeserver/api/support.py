"""GET /.well-known/matrix/support: contacts and support page from the configuration."""

from flask import Blueprint, jsonify

from ..services.server import support
from .http import config

bp = Blueprint("support", __name__)


@bp.get("/.well-known/matrix/support")
def well_known_support():
    return jsonify(support.support_info(config().support))
