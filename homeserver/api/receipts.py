"""Receipts and read markers: POST /rooms/{roomId}/receipt/{receiptType}/{eventId} and
POST /rooms/{roomId}/read_markers."""

from flask import Blueprint, jsonify

from ..schemas.ephemeral import ReceiptBody
from ..services.ephemeral import receipts
from ..services.push import badges
from .http import CLIENT_PREFIX, json_body, load_body, require_auth

bp = Blueprint("receipts", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/rooms/<room_id>")


# Event IDs of room versions 1-3 may contain '/', hence the path converter.
@bp.post("/receipt/<receipt_type>/<path:event_id>")
def post_receipt(room_id, receipt_type, event_id):
    requester = require_auth()
    body = load_body(ReceiptBody, json_body(allow_empty=True))
    receipts.post_receipt(requester.user_id, room_id, receipt_type, event_id,
                          body.get("thread_id"), on_advance=badges.read_and_queue)
    return jsonify({})


@bp.post("/read_markers")
def set_read_markers(room_id):
    requester = require_auth()
    receipts.set_markers(requester.user_id, room_id, json_body(),
                         on_advance=badges.read_and_queue)
    return jsonify({})
