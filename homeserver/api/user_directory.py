"""POST /_matrix/client/v3/user_directory/search."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.profile import UserDirectorySearchSchema
from ..services.users import user_directory
from .http import CLIENT_PREFIX, load_body, require_auth

bp = Blueprint("user_directory", __name__)


@bp.post(f"{CLIENT_PREFIX}/v3/user_directory/search")
def search_user_directory():
    requester = require_auth()
    body = load_body(UserDirectorySearchSchema, missing_errcode=errors.MissingParam)
    return jsonify(user_directory.search(requester.user_id, body["search_term"], body["limit"]))
