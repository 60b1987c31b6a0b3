"""GET /sync."""

from flask import Blueprint, jsonify

from ..schemas.sync import SyncArgs
from ..services.sync import service as sync_service
from .filters import filter_arg
from .http import CLIENT_PREFIX, config, load_args, require_auth

bp = Blueprint("sync", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.get("/sync")
def sync():
    requester = require_auth()
    args = load_args(SyncArgs)
    body = sync_service.sync(
        requester.user_id, requester.device_id,
        since=args.get("since") or None,
        filter_ref=filter_arg(args.get("filter")),
        timeout_ms=args["timeout"],
        full_state=args["full_state"],
        set_presence=args.get("set_presence"),
        use_state_after=args["use_state_after"],
        limits=config().per_user_limits,
    )
    return jsonify(body)
