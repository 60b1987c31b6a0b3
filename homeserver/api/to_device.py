"""PUT /sendToDevice/{eventType}/{txnId} (spec module: Send-to-Device messaging)."""

from flask import Blueprint, jsonify

from ..schemas.keys import SendToDeviceSchema
from ..services.e2ee import to_device
from .http import CLIENT_PREFIX, config, load_body, require_auth

bp = Blueprint("to_device", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.put("/sendToDevice/<event_type>/<txn_id>")
def send_to_device(event_type, txn_id):
    requester = require_auth()
    messages = load_body(SendToDeviceSchema)["messages"]
    to_device.send(requester.user_id, requester.device_id, event_type, txn_id, messages,
                   config().server_name,
                   max_queued=config().e2e["max_queued_to_device_per_device"])
    return jsonify({})
