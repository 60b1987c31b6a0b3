"""Room creation (POST /createRoom): the initial events in the order the spec gives.

1. m.room.create (creation_content + room_version; `creator` before v11; v12
   `additional_creators`, with the invitees for trusted_private_chat);
2. the creator's join; 3. m.room.power_levels (defaults + power_level_content_override);
4. m.room.canonical_alias for room_alias_name; 5. the preset's join rules, history visibility
and guest access; 6. initial_state in order; 7. name and topic; 8. invites.

Everything happens in one write transaction: a room is created whole or not at all. An initial
event the auth rules refuse answers 400 M_INVALID_ROOM_STATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import errors, identifiers
from ...db import write_transaction
from ...models.rooms import Room
from ..event_types import MEMBER
from ..policy import ratelimit, suspension
from ..policy.requester import Requester
from ..rooms import aliases
from ..rooms.room_versions import DEFAULT_ROOM_VERSION, RoomVersion, get_room_version
from . import alias_changes, membership
from .events import RoomAppender, new_room_id
from .membership import member_profile

PRESETS = {
    "private_chat": ("invite", "shared", "can_join"),
    "trusted_private_chat": ("invite", "shared", "can_join"),
    "public_chat": ("public", "shared", "forbidden"),
}


@dataclass
class RoomRequest:
    """A validated /createRoom body."""

    visibility: str = "private"
    preset: str | None = None
    room_alias_name: str | None = None
    name: str | None = None
    topic: str | None = None
    invite: list[str] = field(default_factory=list)
    invite_3pid: list[dict] = field(default_factory=list)
    room_version: str | None = None
    creation_content: dict = field(default_factory=dict)
    initial_state: list[dict] = field(default_factory=list)
    is_direct: bool = False
    power_level_content_override: dict | None = None


def default_power_levels(version: RoomVersion, creator: str, extra_admins: list[str]) -> dict:
    """The power levels of a new room. v12+ creators have infinite power and are not listed,
    and the tombstone level sits above state_default (create_room.yaml, step 3)."""
    users = {} if version.room_id_from_create_event else {u: 100 for u in [creator, *extra_admins]}
    return {
        "users": users,
        "users_default": 0,
        "events": {
            "m.room.name": 50,
            "m.room.power_levels": 100,
            "m.room.history_visibility": 100,
            "m.room.canonical_alias": 50,
            "m.room.avatar": 50,
            "m.room.tombstone": 150 if version.room_id_from_create_event else 100,
            "m.room.server_acl": 100,
            "m.room.encryption": 100,
        },
        "events_default": 0,
        "state_default": 50,
        "ban": 50,
        "kick": 50,
        "redact": 50,
        "invite": 0,
        "notifications": {"room": 50},
    }


def topic_content(topic: str) -> dict:
    """m.room.topic with the plain-text m.topic block (spec: m.room.topic)."""
    return {"topic": topic, "m.topic": [{"body": topic, "mimetype": "text/plain"}]}


def create_room(requester: Requester, request: RoomRequest, *, rate_rule: dict | None) -> str:
    """Create the room; returns its ID. ``invite_3pid`` is not read here: those invites need
    the identity server, asked after the room exists (services/writing/third_party_invites.py)."""
    suspension.ensure_not_suspended(requester)
    ratelimit.charge("send", requester, rate_rule)
    creator = requester.user_id
    version = get_room_version(request.room_version or DEFAULT_ROOM_VERSION)
    server_name = identifiers.server_of(creator)
    preset = request.preset or ("public_chat" if request.visibility == "public"
                                else "private_chat")
    invitees = []
    for invitee in dict.fromkeys(request.invite):
        if invitee == creator:
            raise errors.InvalidParam("You cannot invite yourself to your own room")
        try:
            membership.check_invitee(invitee, creator)
        except membership.InviteBlocked:
            continue  # the spec lets the room be created without this invite
        invitees.append(invitee)
    alias = None
    if request.room_alias_name is not None:
        alias = f"#{request.room_alias_name}:{server_name}"
        if ":" in request.room_alias_name:
            raise errors.InvalidParam("room_alias_name is the local part only, without ':'")
        aliases.check_alias(alias, server_name)

    with write_transaction():
        room_id = None if version.room_id_from_create_event else new_room_id(server_name)
        room = RoomAppender.new(room_id, version, creator)
        try:
            _initial_events(room, creator, request, version, preset, invitees, alias)
        except errors.Forbidden as exc:
            raise errors.InvalidRoomState(f"The initial state is not allowed: {exc.message}")
        if request.visibility == "public":
            # Only this column: the others (joined_members...) were kept by the event writer.
            Room.update(is_public=True).where(Room.room_id == room.room_id).execute()
    return room.room_id


def _initial_events(room: RoomAppender, creator: str, request: RoomRequest,
                    version: RoomVersion, preset: str, invitees: list[str],
                    alias: str | None) -> None:
    trusted = invitees if preset == "trusted_private_chat" else []
    create_content = dict(request.creation_content)
    create_content.pop("creator", None)
    create_content["room_version"] = version.identifier
    if not version.creator_is_create_sender:
        create_content["creator"] = creator
    if version.room_id_from_create_event:
        extra = create_content.get("additional_creators", [])
        if not isinstance(extra, list) or not all(
                isinstance(u, str) and identifiers.is_valid_user_id(u) for u in extra):
            raise errors.BadJson("additional_creators must be a list of user IDs")
        combined = list(dict.fromkeys([*extra, *trusted]))
        if combined:
            create_content["additional_creators"] = combined
        trusted = []  # they are creators: power levels do not list them
    room.append(creator, "m.room.create", create_content, "")
    room.append(creator, MEMBER, {"membership": "join", **member_profile(creator)}, creator)

    initial = {(e["type"], e.get("state_key", "")): e for e in request.initial_state}
    if ("m.room.power_levels", "") not in initial:
        levels = default_power_levels(version, creator, trusted)
        levels.update(request.power_level_content_override or {})
        room.append(creator, "m.room.power_levels", levels, "")
    if alias is not None:
        alias_changes.insert_alias(alias, room.room_id, creator, status=400)
        room.append(creator, "m.room.canonical_alias", {"alias": alias}, "")

    join_rule, history, guests = PRESETS[preset]
    for event_type, content in (("m.room.join_rules", {"join_rule": join_rule}),
                                ("m.room.history_visibility", {"history_visibility": history}),
                                ("m.room.guest_access", {"guest_access": guests})):
        if (event_type, "") not in initial:
            room.append(creator, event_type, content, "")

    overridden = set()
    if request.name is not None:
        overridden.add(("m.room.name", ""))
    if request.topic is not None:
        overridden.add(("m.room.topic", ""))
    for event in request.initial_state:
        key = (event["type"], event.get("state_key", ""))
        if key not in overridden:
            room.append(creator, key[0], event["content"], key[1])
    if request.name is not None:
        room.append(creator, "m.room.name", {"name": request.name}, "")
    if request.topic is not None:
        room.append(creator, "m.room.topic", topic_content(request.topic), "")

    for invitee in invitees:
        membership.append_invite(room, creator, invitee, is_direct=request.is_direct)
