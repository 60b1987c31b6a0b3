"""GET /_matrix/federation/v1/openid/userinfo: the one federation endpoint this server serves.

Integrations (Jitsi, widgets, integration managers) call it to learn which user an OpenID token
from POST /user/{userId}/openid/request_token belongs to (Server-Server API: OpenID).
"""

from flask import Blueprint, jsonify, request

from .. import errors
from ..services.accounts import openid

bp = Blueprint("openid_userinfo", __name__, url_prefix="/_matrix/federation/v1")


@bp.get("/openid/userinfo")
def userinfo():
    token = request.args.get("access_token")
    if not token:
        # As Synapse: 401, with the client API's code for a missing token.
        raise errors.MissingToken("Missing access_token")
    user_id = openid.user_for_token(token)
    if user_id is None:
        raise errors.UnknownToken("OpenID access token unknown or expired")
    return jsonify({"sub": user_id})
