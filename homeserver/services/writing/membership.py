"""Room membership: join (by ID or alias), knock, invite, leave, kick, ban, unban, forget.

Each change is one m.room.member event appended by ``services.writing.events`` in its own write
transaction; the preconditions the endpoints add on top of the auth rules (already invited,
not in the room, invite blocking, restricted-join authorisation) are checked under the same
room lock, so they see exactly the state the event extends.

Member events carry the user's ``displayname``/``avatar_url`` from their profile;
``refresh_profile(user_id)`` re-sends the user's join event in every room they are in after a
profile change.

A client's PUT /state/m.room.member/{userId} goes through ``set_member_state``, which applies
the same preconditions as the dedicated endpoints (as Synapse routes it through its membership
handler). ``join_authorised_via_users_server`` is only ever set by ``_append_join``: whatever
a client puts there is dropped.
"""

from __future__ import annotations

from typing import Callable

from ... import errors, identifiers
from ...db import write_transaction
from ...models.rooms import CurrentState, ForgottenRoom, Room
from ...models.users import User
from ..event_types import MEMBER
from ..policy import ratelimit, suspension
from ..policy.requester import Requester
from ..rooms import power_levels
from ..rooms import state as room_state
from ..rooms.aliases import resolve_room
from ..rooms.blocked_rooms import check_not_blocked
from ..rooms.event_content import InviteBlocked, invites_blocked
from ..userdata import account_data
from ..userdata.tags import TAG_TYPE
from . import guest_access
from .events import RoomAppender, Sent

AUTHORISING_USER = "join_authorised_via_users_server"
# Request body keys never copied into a join's content: set by the server, or not content.
_SERVER_SET_KEYS = frozenset({"membership", AUTHORISING_USER, "reason", "third_party_signed"})


def member_profile(user_id: str) -> dict:
    """The ``displayname``/``avatar_url`` to put in the user's m.room.member events."""
    user = User.get_or_none(User.user_id == user_id)
    out = {}
    if user is not None:
        if user.displayname is not None:
            out["displayname"] = user.displayname
        if user.avatar_url is not None:
            out["avatar_url"] = user.avatar_url
    return out


def _content(membership: str, reason: str | None = None, **extra) -> dict:
    content = {"membership": membership, **{k: v for k, v in extra.items() if v is not None}}
    if reason is not None:
        content["reason"] = reason
    return content



def _open(room_id: str) -> RoomAppender:
    return RoomAppender.lock(room_id, missing=errors.NotFound, missing_message="Room not found")


def check_invitee(user_id: str, inviter: str) -> None:
    """A local, existing user who accepts invites (this server does not federate)."""
    if not identifiers.is_valid_user_id(user_id):
        raise errors.InvalidParam(f"{user_id!r} is not a valid user ID")
    if identifiers.server_of(user_id) != identifiers.server_of(inviter):
        raise errors.Forbidden("This server does not federate: only its own users can be invited")
    user = User.get_or_none(User.user_id == user_id)
    if user is None or user.deactivated:
        raise errors.NotFound(f"User {user_id} not found")
    if invites_blocked(user_id):
        raise InviteBlocked(f"{user_id} does not accept invites")


# --- joining and knocking -----------------------------------------------------------------------

def join(requester: Requester, room_id_or_alias: str, *, reason: str | None = None,
         extra: dict | None = None, rate_rule: dict | None,
         ask_alias_owner: Callable[[str], None] | None = None) -> str:
    """Join the room (or refresh the join with the current profile); returns the room ID.
    ``extra`` is the client's other content (as Synapse copies the request body), over the
    profile; the keys the server sets are never taken from it. Refused to a suspended account
    and counted under ``rate_rule`` first; then ``ask_alias_owner`` (the application service
    whose namespace covers an unknown alias may create it: ``appservice.queries``)."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    if ask_alias_owner is not None:
        ask_alias_owner(room_id_or_alias)
    user_id = requester.user_id
    room_id = resolve_room(room_id_or_alias)
    client = {k: v for k, v in (extra or {}).items() if k not in _SERVER_SET_KEYS}
    content = _content("join", reason, **{**member_profile(user_id), **client})
    with write_transaction():
        room = _open(room_id)
        current = room.state_event((MEMBER, user_id))
        if current is not None and current.get("content") == content:
            return room_id  # already joined with this profile: nothing changes
        _append_join(room, user_id, content)
    return room_id


def _append_join(room: RoomAppender, user_id: str, content: dict) -> Sent:
    """The one way a join is appended: a restricted room's authorisation is computed here,
    never taken from the client; a room an admin blocked is refused here."""
    check_not_blocked(room.room_id)
    content = {k: v for k, v in content.items() if k != AUTHORISING_USER}
    guest_access.check_may_join(room, user_id)
    before = room.membership(user_id)
    if before not in ("join", "invite"):
        authoriser = _restricted_join_authoriser(room, user_id)
        if authoriser is not None:
            content[AUTHORISING_USER] = authoriser
    sent = room.append(user_id, MEMBER, content, user_id, dedupe=True)
    if before != "join":
        _carry_over_tags(room, user_id)
    return sent


def _carry_over_tags(room: RoomAppender, user_id: str) -> None:
    """Joining the replacement of an upgraded room brings the user's tags of the old room
    along (spec, Room Upgrades: "transfer the user's personalized settings")."""
    create = room.state_event(("m.room.create", ""))
    content = create.get("content") if create else None
    predecessor = content.get("predecessor") if isinstance(content, dict) else None
    old_room = predecessor.get("room_id") if isinstance(predecessor, dict) else None
    if not isinstance(old_room, str):
        return
    if account_data.get(user_id, TAG_TYPE, room_id=room.room_id) is not None:
        return
    tags = account_data.get(user_id, TAG_TYPE, room_id=old_room)
    if tags:
        account_data.put(user_id, TAG_TYPE, tags, room_id=room.room_id)


def _restricted_join_authoriser(room: RoomAppender, user_id: str) -> str | None:
    """For restricted rooms: a joined local member able to invite, when the user is joined to
    one of the rooms the join rules allow; None when the rule is not restricted or the user
    meets no condition (the auth rules then refuse the join with a readable reason)."""
    version = room.version
    rules = room.state_event(("m.room.join_rules", ""))
    content = rules.get("content") if rules else None
    rule = content.get("join_rule") if isinstance(content, dict) else None
    if not ((rule == "restricted" and version.restricted_join_allowed)
            or (rule == "knock_restricted" and version.knock_restricted_allowed)):
        return None
    allowed_rooms = [a.get("room_id") for a in content.get("allow") or []
                     if isinstance(a, dict) and a.get("type") == "m.room_membership"
                     and isinstance(a.get("room_id"), str)]
    if not allowed_rooms or not room_state.joined_rooms_query(user_id).where(
            CurrentState.room.in_(allowed_rooms)).exists():
        return None
    auth_state = room.state([("m.room.create", ""), ("m.room.power_levels", "")])
    needed = power_levels.action_level(auth_state, "invite", version)
    candidates = (CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room.room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "join")).order_by(CurrentState.stream_ordering).tuples())
    for (member,) in candidates:
        if power_levels.user_level(auth_state, member, version) >= needed:
            return member
    return None


def knock(requester: Requester, room_id_or_alias: str, *, reason: str | None = None,
          rate_rule: dict | None) -> str:
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    user_id = requester.user_id
    room_id = resolve_room(room_id_or_alias)
    with write_transaction():
        room = _open(room_id)
        _check_knock_allowed(room)
        check_not_blocked(room_id)
        room.append(user_id, MEMBER, _content("knock", reason, **member_profile(user_id)),
                    user_id)
    return room_id


def _check_knock_allowed(room: RoomAppender) -> None:
    if not room.version.knock_allowed:
        raise errors.Forbidden(f"Room version {room.version.identifier} does not allow "
                               "knocking")


# --- invites, leaving, kicks and bans -----------------------------------------------------------

def invite(requester: Requester, room_id: str, invitee: str, *, reason: str | None = None,
           is_direct: bool = False, rate_rule: dict | None,
           ask_user_owner: Callable[[str], None] | None = None) -> None:
    """Refused to a suspended account and counted under ``rate_rule`` first; then
    ``ask_user_owner`` (the application service whose namespace covers an unknown invitee may
    create it: ``appservice.queries``)."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    if ask_user_owner is not None:
        ask_user_owner(invitee)
    inviter = requester.user_id
    check_invitee(invitee, inviter)
    with write_transaction():
        room = RoomAppender.lock(room_id)
        if room.membership(invitee) == "invite" and room.membership(inviter) == "join":
            return  # "or was already invited"
        append_invite(room, inviter, invitee, reason=reason, is_direct=is_direct)


def append_invite(room: RoomAppender, inviter: str, invitee: str, *, reason: str | None = None,
                  is_direct: bool = False) -> Sent:
    check_not_blocked(room.room_id)
    content = _content("invite", reason, **member_profile(invitee))
    if is_direct:
        content["is_direct"] = True
    return room.append(inviter, MEMBER, content, invitee)


def leave(user_id: str, room_id: str, *, reason: str | None = None) -> None:
    """Leave, reject an invite or retract a knock. Leaving twice is not an error."""
    with write_transaction():
        room = _open(room_id)
        if room.membership(user_id) == "leave":
            return
        room.append(user_id, MEMBER, _content("leave", reason), user_id)


def kick(requester: Requester, room_id: str, target: str, *, reason: str | None = None) -> None:
    suspension.ensure_not_suspended(requester)
    sender = requester.user_id
    with write_transaction():
        room = RoomAppender.lock(room_id)
        _check_in_room(room, target)
        room.append(sender, MEMBER, _content("leave", reason), target)


def _check_in_room(room: RoomAppender, target: str) -> None:
    if room.membership(target) not in ("join", "invite", "knock"):
        raise errors.Forbidden(f"{target} is not in the room")


def ban(requester: Requester, room_id: str, target: str, *, reason: str | None = None) -> None:
    suspension.ensure_not_suspended(requester)
    sender = requester.user_id
    if not identifiers.is_valid_user_id(target):
        raise errors.InvalidParam(f"{target!r} is not a valid user ID")
    with write_transaction():
        room = RoomAppender.lock(room_id)
        room.append(sender, MEMBER, _content("ban", reason), target)


def unban(requester: Requester, room_id: str, target: str, *, reason: str | None = None) -> None:
    suspension.ensure_not_suspended(requester)
    sender = requester.user_id
    with write_transaction():
        room = RoomAppender.lock(room_id)
        if room.membership(target) != "ban":
            raise errors.Forbidden(f"{target} is not banned from this room")
        room.append(sender, MEMBER, _content("leave", reason), target)


def forget(user_id: str, room_id: str) -> None:
    """Forget a room the user left: /sync stops showing it until they come back."""
    with write_transaction():
        if not Room.select().where(Room.room_id == room_id).exists():
            raise errors.NotFound("Room not found")
        membership = (CurrentState.select(CurrentState.membership).where(
            (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
            & (CurrentState.state_key == user_id)).scalar())
        if membership in ("join", "invite", "knock"):
            raise errors.Unknown(f"User {user_id} is in room {room_id}: leave it first")
        if membership is None:
            return  # never in it: nothing to forget
        (ForgottenRoom.insert(user_id=user_id, room=room_id)
         .on_conflict_ignore().execute())


# --- PUT /rooms/{roomId}/state/m.room.member/{userId} ---------------------------------------

def set_member_state(sender: str, room_id: str, target: str, content: dict) -> str:
    """A membership change sent as a state event: the same checks as the dedicated endpoints
    (join, knock, invite, leave, kick, ban, unban), the client's other content kept, the
    profile filled in when absent. Returns the event ID (the current one when identical)."""
    membership = content.get("membership")
    if not isinstance(membership, str):
        raise errors.BadJson("m.room.member content needs a string 'membership'")
    if not identifiers.is_valid_user_id(target):
        raise errors.BadJson("The state_key of m.room.member must be a user ID")
    if membership in ("join", "invite", "knock"):
        check_not_blocked(room_id)
    content = {k: v for k, v in content.items() if k != AUTHORISING_USER}
    if membership == "invite":
        check_invitee(target, sender)
    if membership in ("join", "invite", "knock"):
        content = {**member_profile(target), **content}
    with write_transaction():
        room = _open(room_id) if sender == target else RoomAppender.lock(room_id)
        if membership == "join" and sender == target:
            return _append_join(room, target, content).event_id
        if membership == "leave" and sender != target:
            if room.membership(target) != "ban":  # an unban needs a ban, a kick a member
                _check_in_room(room, target)
        return room.append(sender, MEMBER, content, target, dedupe=True).event_id


# --- profile propagation ------------------------------------------------------------------------

def refresh_profile(user_id: str) -> list[str]:
    """Re-send the user's join event with their current displayname/avatar_url in every room
    they are joined to (one transaction per room). Returns the rooms updated."""
    profile = member_profile(user_id)
    updated = []
    for room_id in room_state.joined_rooms(user_id):
        with write_transaction():
            room = RoomAppender.lock(room_id)
            current = room.state_event((MEMBER, user_id))
            old = current.get("content") if current else None
            if not isinstance(old, dict) or old.get("membership") != "join":
                continue
            content = {k: v for k, v in old.items()
                       if k not in ("displayname", "avatar_url", "reason")}
            content.update(profile)
            if content == old:
                continue
            try:
                room.append(user_id, MEMBER, content, user_id)
            except errors.Forbidden:
                continue  # e.g. not allowed by a changed power level: leave that room as is
            updated.append(room_id)
    return updated
