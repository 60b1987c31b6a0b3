"""Sending to rooms: PUT /rooms/{roomId}/send/{eventType}/{txnId} (and Synapse's POST without
the txnId), PUT /state/{type}/{key}, PUT /redact/{eventId}/{txnId}."""

from flask import Blueprint, jsonify

from ..schemas.rooms import RedactSchema
from ..services.accounts import moderation
from ..services.rooms import events, guest_access, membership
from .http import CLIENT_PREFIX, json_body, load_body, rate_limit, require_auth

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
    moderation.ensure_not_suspended(requester)
    content = json_body()
    rate_limit("send", requester, "messages_per_user")
    sent = events.send_event(requester.user_id, room_id, event_type, content, txn=txn)
    return jsonify({"event_id": sent.event_id})


@bp.put("/state/<event_type>/", defaults={"state_key": ""}, strict_slashes=False)
@bp.put("/state/<event_type>/<path:state_key>")
def send_state(room_id, event_type, state_key):
    requester = require_auth()
    content = json_body()
    moderation.ensure_may_set_state(requester, event_type, state_key, content)
    rate_limit("send", requester, "messages_per_user")
    if event_type == "m.room.member":
        event_id = membership.set_member_state(requester.user_id, room_id, state_key, content)
    elif event_type == guest_access.GUEST_ACCESS:
        event_id = guest_access.set_guest_access(requester.user_id, room_id, state_key,
                                                 content).event_id
    else:
        event_id = events.send_state_event(requester.user_id, room_id, event_type, state_key,
                                           content).event_id
    return jsonify({"event_id": event_id})


@bp.put("/redact/<path:event_id>/<txn_id>")
def redact(room_id, event_id, txn_id):
    requester = require_auth()
    txn = events.TxnKey(requester.user_id, requester.device_id,
                        f"redact {room_id} {event_id}", txn_id)
    replayed = events.replayed_event_id(txn)
    if replayed is not None:
        return jsonify({"event_id": replayed})
    moderation.ensure_may_redact(requester, room_id, event_id)
    content = load_body(RedactSchema())
    rate_limit("send", requester, "messages_per_user")
    sent = events.send_event(requester.user_id, room_id, "m.room.redaction", content,
                             redacts=event_id, txn=txn)
    return jsonify({"event_id": sent.event_id})
