"""GET /notifications: the events the user was notified about, newest first."""

from flask import Blueprint, jsonify

from ..schemas.push import NotificationsArgs
from ..services.push import notifications
from .http import CLIENT_PREFIX, load_args, require_auth

bp = Blueprint("notifications", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.get("/notifications")
def get_notifications():
    requester = require_auth()
    args = load_args(NotificationsArgs)
    return jsonify(notifications.list_notifications(
        requester.user_id, requester.device_id, from_token=args.get("from_"),
        limit=args.get("limit"), only=args.get("only")))
