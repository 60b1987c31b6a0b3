"""Third-party invites (spec: Client-Server API, module "Third-party invites"; Server-Server
API, /3pid/onbind): inviting by email address through an identity server, and turning the
invite into a membership once the address is bound to one of this server's users.

- POST /rooms/{roomId}/invite with ``id_server``/``medium``/``address`` (and createRoom's
  ``invite_3pid``): the identity server's /lookup names a bound user, who is invited as usual;
  an unbound address is stored there (/store-invite) and the room gets an
  ``m.room.third_party_invite`` event (state key: the identity server's token).
- When the address is bound, the identity server calls /_matrix/federation/v1/3pid/onbind
  with each invite's ``signed`` block (``mxid`` and ``token``, signed with its key): the stored
  invite becomes an ``m.room.member`` invite with ``third_party_invite`` content, sent as the
  inviter, which the auth rules check against the public keys of the third-party invite event.
  The same exchange serves a join with ``third_party_signed``.
- Before that exchange the signing key is checked at the event's ``key_validity_url`` (spec:
  "MUST validate that the public key used for signing is still valid").

Every call to the identity server happens outside the room's write lock.
"""

from __future__ import annotations

from ... import errors, identifiers
from ...db import write_transaction
from ..event_types import (AVATAR, CANONICAL_ALIAS, JOIN_RULES, MEMBER, NAME, POWER_LEVELS,
                           THIRD_PARTY_INVITE)
from ..policy import ratelimit, suspension
from ..policy.requester import Requester
from ..rooms import power_levels
from ..rooms import state as room_state
from ..rooms.aliases import resolve_room
from ..rooms.auth_rules_membership import signed_by_any
from ..identity import client
from . import create, membership
from .events import RoomAppender

# Invites handled per /3pid/onbind call (each may ask a key_validity_url).
MAX_INVITES_PER_BIND = 20


def invite(requester: Requester, room_id: str, *, id_server: str, id_access_token: str,
           medium: str, address: str, rate_rule: dict | None) -> None:
    """POST /rooms/{roomId}/invite by third-party identifier (spec: inviteBy3PID). Refused to
    a suspended account and counted under ``rate_rule`` first, as other invites."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    inviter = requester.user_id
    client.check_server_name(id_server)
    _check_may_invite(inviter, room_id)
    user_id = client.lookup(id_server, id_access_token, medium, address)
    if user_id is not None:
        membership.invite(requester, room_id, user_id, rate_rule=None)
        return
    stored = client.store_invite(id_server, id_access_token, {
        "medium": medium, "address": address, "room_id": room_id, "sender": inviter,
        **_room_details(room_id, inviter)})
    first = stored.public_keys[0]
    content = {"display_name": stored.display_name, "public_keys": stored.public_keys,
               # For clients and servers that read only the first key (as Synapse sends it).
               "public_key": first["public_key"], "key_validity_url": first["key_validity_url"]}
    with write_transaction():
        RoomAppender.lock(room_id).append(inviter, THIRD_PARTY_INVITE, content, stored.token)


def create_room(requester: Requester, request: create.RoomRequest, *,
                rate_rule: dict | None) -> str:
    """POST /createRoom: the room, then its ``invite_3pid`` invites, as Synapse does them
    (identity servers this server would not use are refused before the room is made)."""
    for entry in request.invite_3pid:
        client.check_may_use(entry["id_server"])
    room_id = create.create_room(requester, request, rate_rule=rate_rule)
    for entry in request.invite_3pid:
        invite(requester, room_id, id_server=entry["id_server"],
               id_access_token=entry["id_access_token"], medium=entry["medium"],
               address=entry["address"], rate_rule=None)
    return room_id


def _check_may_invite(inviter: str, room_id: str) -> None:
    """What the auth rules would refuse of the m.room.third_party_invite event, checked before
    the identity server stores an invite that could never be used."""
    with write_transaction():
        room = RoomAppender.lock(room_id)
        if room.membership(inviter) != "join":
            raise errors.Forbidden("You must be in the room to invite")
        auth = room.state([("m.room.create", ""), (POWER_LEVELS, "")])
        if power_levels.user_level(auth, inviter, room.version) < power_levels.action_level(
                auth, "invite", room.version):
            raise errors.Forbidden("You do not have permission to invite users to this room")


def _room_details(room_id: str, inviter: str) -> dict:
    """What the identity server may put in its invitation mail (store-invite's optional
    fields)."""
    details = {}
    for field, (event_type, key) in {"room_name": (NAME, "name"),
                                     "room_alias": (CANONICAL_ALIAS, "alias"),
                                     "room_avatar_url": (AVATAR, "url"),
                                     "room_join_rules": (JOIN_RULES, "join_rule")}.items():
        value = room_state.content_of(room_state.state_event(room_id, event_type, "")).get(key)
        if isinstance(value, str):
            details[field] = value
    profile = membership.member_profile(inviter)
    if "displayname" in profile:
        details["sender_display_name"] = profile["displayname"]
    if "avatar_url" in profile:
        details["sender_avatar_url"] = profile["avatar_url"]
    return details


# --- the invite becomes a membership -----------------------------------------------------------

def on_bind(body: dict) -> None:
    """PUT/POST /_matrix/federation/v1/3pid/onbind from an identity server: each pending
    invite becomes an m.room.member invite. Every invite is tried; the last failure is raised
    (as Synapse does)."""
    invites = body.get("invites")
    if invites is None:
        return
    if not isinstance(invites, list):
        raise errors.BadJson("invites must be a list")
    if len(invites) > MAX_INVITES_PER_BIND:
        raise errors.InvalidParam(f"At most {MAX_INVITES_PER_BIND} invites per call")
    failure = None
    for pending in invites:
        try:
            if not isinstance(pending, dict) or not isinstance(pending.get("signed"), dict):
                raise errors.BadJson("Each invite needs a signed object")
            signed = pending["signed"]
            exchange(pending.get("room_id"), signed, signed.get("mxid"))
        except errors.MatrixError as exc:
            failure = exc
    if failure is not None:
        raise failure


def join(requester: Requester, room_id_or_alias: str, signed, *, reason: str | None = None,
         extra: dict | None = None, rate_rule: dict | None,
         ask_alias_owner=None) -> str:
    """POST /join with ``third_party_signed``: the exchange for the user, then the join (the
    policy checks of ``membership.join`` first)."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    if ask_alias_owner is not None:
        ask_alias_owner(room_id_or_alias)
    user_id = requester.user_id
    room_id = resolve_room(room_id_or_alias)
    if not isinstance(signed, dict) or signed.get("mxid") != user_id:
        raise errors.Forbidden("third_party_signed does not name you (mxid)")
    exchange(room_id, signed, user_id)
    return membership.join(requester, room_id, reason=reason, extra=extra, rate_rule=None)


def exchange(room_id, signed: dict, target) -> None:
    """Turn the room's m.room.third_party_invite with ``signed.token`` into an invite of
    ``target`` (spec: Third-party invites, "Server behaviour"). Nothing changes for a target
    already invited or joined."""
    if not isinstance(room_id, str) or not identifiers.is_valid_room_id(room_id):
        raise errors.InvalidParam("room_id is not a room ID")
    if not isinstance(target, str) or not identifiers.is_valid_user_id(target):
        raise errors.InvalidParam("mxid is not a user ID")
    token = signed.get("token")
    pending = room_state.state_event(room_id, THIRD_PARTY_INVITE, token) \
        if isinstance(token, str) else None
    content = room_state.content_of(pending)
    if pending is None or not content:
        raise errors.Forbidden("No third-party invite in this room matches the token")
    _check_key_still_valid(signed, content)
    membership.check_invitee(target, pending.sender)
    member_content = {"membership": "invite",
                      "third_party_invite": {"signed": signed}}
    if isinstance(content.get("display_name"), str):
        member_content["third_party_invite"]["display_name"] = content["display_name"]
    with write_transaction():
        room = RoomAppender.lock(room_id)
        if room.membership(target) in ("invite", "join"):
            return
        room.append(pending.sender, MEMBER, member_content, target)


def _check_key_still_valid(signed: dict, content: dict) -> None:
    """The key that signed ``signed`` must be one of the event's and still valid at its
    ``key_validity_url`` (a key without one cannot be revoked)."""
    keys = [entry for entry in content.get("public_keys") or [] if isinstance(entry, dict)]
    if isinstance(content.get("public_key"), str):
        keys.append({"public_key": content["public_key"],
                     "key_validity_url": content.get("key_validity_url")})
    for entry in keys[:10]:
        public_key = entry.get("public_key")
        if not isinstance(public_key, str) or not signed_by_any(signed, [public_key]):
            continue
        url = entry.get("key_validity_url")
        if url is None or (isinstance(url, str) and client.key_is_valid(url, public_key)):
            return
        raise errors.Forbidden("The identity server's key is revoked or cannot be checked")
    raise errors.Forbidden("The third-party invite's signature does not match its public keys")
