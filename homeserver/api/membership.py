"""Room membership: join (by ID or alias), knock, invite (by user ID, or by third-party
identifier through an identity server), leave, forget, kick, ban, unban."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.rooms import InviteSchema, JoinSchema, ReasonSchema, TargetSchema
from ..services.accounts import moderation
from ..services.appservice import queries
from ..services.identity import invites
from ..services.rooms import membership
from .http import CLIENT_PREFIX, config, json_body, load_body, rate_limit, require_auth

bp = Blueprint("membership", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


def _body(schema):
    # The spec marks these bodies required, but several clients send none: treat it as {}.
    return load_body(schema, json_body(allow_empty=True))


def _join(room_id_or_alias):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    raw = json_body(allow_empty=True)
    body = load_body(JoinSchema(), raw)
    rate_limit("send", requester, "messages_per_user")
    queries.ensure_alias(config().app_services, room_id_or_alias, config().server_name)
    if body["third_party_signed"] is not None:
        room_id = invites.join(requester.user_id, room_id_or_alias, body["third_party_signed"],
                               reason=body["reason"], extra=raw)
    else:
        room_id = membership.join(requester.user_id, room_id_or_alias, reason=body["reason"],
                                  extra=raw)
    return jsonify({"room_id": room_id})


@bp.post("/rooms/<room_id>/join")
def join_room_by_id(room_id):
    return _join(room_id)


@bp.post("/join/<room_id_or_alias>")
def join_room(room_id_or_alias):
    return _join(room_id_or_alias)


@bp.post("/knock/<room_id_or_alias>")
def knock_room(room_id_or_alias):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    body = _body(ReasonSchema())
    rate_limit("send", requester, "messages_per_user")
    room_id = membership.knock(requester.user_id, room_id_or_alias, reason=body["reason"])
    return jsonify({"room_id": room_id})


@bp.post("/rooms/<room_id>/invite")
def invite_user(room_id):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    body = load_body(InviteSchema())
    if body["user_id"] is None:
        # The other form (spec: Third-party invites): all four fields.
        missing = [key for key in ("id_server", "id_access_token", "medium", "address")
                   if body[key] is None]
        if missing:
            field = "user_id" if len(missing) == 4 else missing[0]
            raise errors.BadJson(f"Missing required field: {field}")
        rate_limit("send", requester, "messages_per_user")
        invites.invite(requester.user_id, room_id, id_server=body["id_server"],
                       id_access_token=body["id_access_token"], medium=body["medium"],
                       address=body["address"])
        return jsonify({})
    rate_limit("send", requester, "messages_per_user")
    queries.ensure_user(config().app_services, body["user_id"], config().server_name)
    membership.invite(requester.user_id, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/leave")
def leave_room(room_id):
    requester = require_auth()
    body = _body(ReasonSchema())
    membership.leave(requester.user_id, room_id, reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/forget")
def forget_room(room_id):
    requester = require_auth()
    membership.forget(requester.user_id, room_id)
    return jsonify({})


@bp.post("/rooms/<room_id>/kick")
def kick(room_id):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    body = load_body(TargetSchema())
    membership.kick(requester.user_id, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/ban")
def ban(room_id):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    body = load_body(TargetSchema())
    membership.ban(requester.user_id, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/unban")
def unban(room_id):
    requester = require_auth()
    moderation.ensure_not_suspended(requester)
    body = load_body(TargetSchema())
    membership.unban(requester.user_id, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})
