"""Key management endpoints (spec module: End-to-End Encryption): /keys/*."""

from flask import Blueprint, jsonify

from ..schemas.keys import KeysClaimSchema, KeysQuerySchema, KeysUploadSchema
from ..services.keys import claim, query, upload
from .http import CLIENT_PREFIX, config, load_body, require_auth

bp = Blueprint("keys", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/keys")


@bp.post("/upload")
def upload_keys():
    requester = require_auth()
    body = load_body(KeysUploadSchema())
    return jsonify(upload.upload_keys(requester, body["device_keys"], body["one_time_keys"],
                                      body["fallback_keys"]))


@bp.post("/query")
def query_keys():
    requester = require_auth()
    body = load_body(KeysQuerySchema())
    return jsonify(query.query_keys(requester.user_id, body["device_keys"], config().server_name))


@bp.post("/claim")
def claim_keys():
    require_auth()
    body = load_body(KeysClaimSchema())
    return jsonify(claim.claim_keys(body["one_time_keys"], config().server_name))
