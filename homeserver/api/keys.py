"""Key management endpoints (spec module: End-to-End Encryption): /keys/*."""

from flask import Blueprint, jsonify

from ..schemas.keys import (CrossSigningUploadSchema, KeysChangesArgs, KeysClaimSchema,
                            KeysQuerySchema, KeysUploadSchema)
from ..services.accounts import uia
from ..services.e2ee.keys import changes, claim, cross_signing, query, upload
from .http import CLIENT_PREFIX, config, json_body, load_args, load_body, require_auth
from .uia import interactive

bp = Blueprint("keys", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/keys")


@bp.post("/upload")
def upload_keys():
    requester = require_auth()
    body = load_body(KeysUploadSchema)
    return jsonify(upload.upload_keys(
        requester.user_id, requester.device_id, body["device_keys"], body["one_time_keys"],
        body["fallback_keys"],
        max_one_time_keys=config().e2e["max_one_time_keys_per_device"]))


@bp.post("/query")
def query_keys():
    requester = require_auth()
    body = load_body(KeysQuerySchema)
    return jsonify(query.query_keys(requester.user_id, body["device_keys"], config().server_name))


@bp.post("/claim")
def claim_keys():
    require_auth()
    body = load_body(KeysClaimSchema)
    return jsonify(claim.claim_keys(body["one_time_keys"], config().server_name))


@bp.get("/changes")
def key_changes():
    requester = require_auth()
    args = load_args(KeysChangesArgs)
    return jsonify(changes.key_changes(requester.user_id, args["from_"], args["to"]))


def _cross_signing_keys(body: dict) -> dict:
    return {key_type: body[f"{key_type}_key"] for key_type in cross_signing.KEY_TYPES}


@bp.post("/device_signing/upload")
def upload_cross_signing_keys():
    requester = require_auth()
    body = load_body(CrossSigningUploadSchema, json_body(allow_empty=True))
    keys = _cross_signing_keys(body)
    # A client finishing UIA through the fallback page resends only {"auth": {"session"}}.
    auth = body["auth"]
    resumed = not any(keys.values()) and isinstance(auth, dict) and "session" in auth
    if resumed or cross_signing.upload_requires_auth(requester.user_id, keys):
        body, passed = interactive(CrossSigningUploadSchema, [[uia.PASSWORD]],
                                   requester=requester.user_id)
        keys = _cross_signing_keys(body)
        uia.complete(passed, lambda: cross_signing.upload_cross_signing_keys(requester.user_id,
                                                                             keys))
    else:
        cross_signing.upload_cross_signing_keys(requester.user_id, keys)
    return jsonify({})


@bp.post("/signatures/upload")
def upload_signatures():
    requester = require_auth()
    return jsonify(cross_signing.upload_signatures(requester.user_id, json_body()))
