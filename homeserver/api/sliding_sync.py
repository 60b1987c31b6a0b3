"""POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync: Simplified Sliding Sync
(MSC4186), as Element X (matrix-rust-sdk) and matrix-js-sdk call it."""

from flask import Blueprint, jsonify

from ..schemas.sliding_sync import SlidingSyncArgs, SlidingSyncBody
from ..services.sliding_sync import sliding_sync as sliding_sync_service
from .http import CLIENT_PREFIX, config, load_args, load_body, require_auth

bp = Blueprint("sliding_sync", __name__,
               url_prefix=f"{CLIENT_PREFIX}/unstable/org.matrix.simplified_msc3575")


@bp.post("/sync")
def sliding_sync():
    requester = require_auth()
    args = load_args(SlidingSyncArgs)
    body = load_body(SlidingSyncBody)
    settings = config()
    return jsonify(sliding_sync_service(
        requester.user_id, requester.device_id, body,
        pos=args.get("pos"), timeout_ms=args["timeout"],
        set_presence=args.get("set_presence"), limits=settings.sliding_sync,
        long_poll_limits=settings.per_user_limits))
