"""Room membership: join (by ID or alias), knock, invite (by user ID, or by third-party
identifier through an identity server), leave, forget, kick, ban, unban."""

from flask import Blueprint, jsonify

from .. import errors
from ..schemas.rooms import InviteSchema, JoinSchema, ReasonSchema, TargetSchema
from ..services.appservice import queries
from ..services.writing import third_party_invites as invites
from ..services.writing import membership
from .http import CLIENT_PREFIX, config, json_body, load_body, rate_rule, require_auth

bp = Blueprint("membership", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


def _body(schema):
    # The spec marks these bodies required, but several clients send none: treat it as {}.
    return load_body(schema, json_body(allow_empty=True))


def _join(room_id_or_alias):
    requester = require_auth()
    raw = json_body(allow_empty=True)
    body = load_body(JoinSchema, raw)
    ask_alias_owner = (lambda alias: queries.ensure_alias(config().app_services, alias,
                                                          config().server_name))
    if body["third_party_signed"] is not None:
        room_id = invites.join(
            requester, room_id_or_alias, body["third_party_signed"], reason=body["reason"],
            extra=raw, rate_rule=rate_rule("messages_per_user"), ask_alias_owner=ask_alias_owner)
    else:
        room_id = membership.join(
            requester, room_id_or_alias, reason=body["reason"], extra=raw,
            rate_rule=rate_rule("messages_per_user"), ask_alias_owner=ask_alias_owner)
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
    body = _body(ReasonSchema)
    room_id = membership.knock(requester, room_id_or_alias, reason=body["reason"],
                               rate_rule=rate_rule("messages_per_user"))
    return jsonify({"room_id": room_id})


@bp.post("/rooms/<room_id>/invite")
def invite_user(room_id):
    requester = require_auth()
    body = load_body(InviteSchema)
    if body["user_id"] is None:
        # The other form (spec: Third-party invites): all four fields.
        missing = [key for key in ("id_server", "id_access_token", "medium", "address")
                   if body[key] is None]
        if missing:
            field = "user_id" if len(missing) == 4 else missing[0]
            raise errors.BadJson(f"Missing required field: {field}")
        invites.invite(requester, room_id, id_server=body["id_server"],
                       id_access_token=body["id_access_token"], medium=body["medium"],
                       address=body["address"], rate_rule=rate_rule("messages_per_user"))
        return jsonify({})
    membership.invite(
        requester, room_id, body["user_id"], reason=body["reason"],
        rate_rule=rate_rule("messages_per_user"),
        ask_user_owner=lambda user_id: queries.ensure_user(config().app_services, user_id,
                                                           config().server_name))
    return jsonify({})


@bp.post("/rooms/<room_id>/leave")
def leave_room(room_id):
    requester = require_auth()
    body = _body(ReasonSchema)
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
    body = load_body(TargetSchema)
    membership.kick(requester, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/ban")
def ban(room_id):
    requester = require_auth()
    body = load_body(TargetSchema)
    membership.ban(requester, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})


@bp.post("/rooms/<room_id>/unban")
def unban(room_id):
    requester = require_auth()
    body = load_body(TargetSchema)
    membership.unban(requester, room_id, body["user_id"], reason=body["reason"])
    return jsonify({})
