"""Sending to rooms: PUT /rooms/{roomId}/send/{eventType}/{txnId} (and Synapse's POST without
the txnId), PUT /state/{type}/{key}, PUT /redact/{eventId}/{txnId}."""

from flask import Blueprint, jsonify

from ..schemas.rooms import RedactSchema
from ..services.writing import events, state_changes
from .http import CLIENT_PREFIX, json_body, load_body, rate_rule, require_auth

bp = Blueprint("room_events", __name__, url_prefix=f"{CLIENT_PREFIX}/v3/rooms/<room_id>")


@bp.put("/send/<event_type>/<txn_id>")
def send_message(room_id, event_type, txn_id):
    requester = require_auth()
    txn = events.TxnKey(requester.user_id, requester.device_id,
                        f"send {room_id} {event_type}", txn_id)
    # A retry (its response was lost) gets its first answer before any limit is spent.
    replayed = events.replayed_event_id(txn)
    if replayed is not None:
        return jsonify({"event_id": replayed})
    return _send(requester, room_id, event_type, txn)


# Not in the spec: the same without a transaction ID, so never idempotent (Synapse serves it;
# SyTest and scripts written against r0 send this way).
@bp.post("/send/<event_type>")
def send_message_without_txn(room_id, event_type):
    return _send(require_auth(), room_id, event_type, None)


def _send(requester, room_id: str, event_type: str, txn):
    sent = events.send_message(requester, room_id, event_type, json_body(), txn=txn,
                               rate_rule=rate_rule("messages_per_user"))
    return jsonify({"event_id": sent.event_id})


@bp.put("/state/<event_type>/", defaults={"state_key": ""}, strict_slashes=False)
@bp.put("/state/<event_type>/<path:state_key>")
def send_state(room_id, event_type, state_key):
    requester = require_auth()
    event_id = state_changes.set_state(requester, room_id, event_type, state_key, json_body(),
                                       rate_rule=rate_rule("messages_per_user"))
    return jsonify({"event_id": event_id})


@bp.put("/redact/<path:event_id>/<txn_id>")
def redact(room_id, event_id, txn_id):
    requester = require_auth()
    txn = events.TxnKey(requester.user_id, requester.device_id,
                        f"redact {room_id} {event_id}", txn_id)
    replayed = events.replayed_event_id(txn)
    if replayed is not None:
        return jsonify({"event_id": replayed})
    sent = events.redact(requester, room_id, event_id, load_body(RedactSchema), txn=txn,
                         rate_rule=rate_rule("messages_per_user"))
    return jsonify({"event_id": sent.event_id})
