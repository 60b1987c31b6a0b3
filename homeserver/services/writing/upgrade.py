"""Room upgrades (POST /rooms/{roomId}/upgrade; spec module "Room Upgrades").

In one write transaction holding the old room's lock: check the user may send
m.room.tombstone there; create the replacement room (m.room.create with `predecessor`, the new
`room_version` and the old room's `type`); copy the transferable state; move the local aliases
and the directory listing; send the tombstone; restrict the old room's power levels so that
only moderators can still talk or invite there.
"""

from __future__ import annotations

from ... import errors, identifiers
from ...db import write_transaction
from ...models.rooms import CurrentState, Room
from ..event_types import MEMBER
from ..policy import suspension
from ..policy.requester import Requester
from ..rooms import power_levels
from ..rooms.room_versions import RoomVersion, get_room_version
from . import alias_changes
from .events import RoomAppender, new_room_id
from .membership import member_profile

# Recommended by the spec, in a working order (power levels first, so the rest is allowed).
TRANSFERRED_STATE = ("m.room.power_levels", "m.room.join_rules", "m.room.history_visibility",
                     "m.room.guest_access", "m.room.name", "m.room.avatar", "m.room.topic",
                     "m.room.encryption", "m.room.server_acl")

CREATE_KEY = ("m.room.create", "")
POWER_KEY = ("m.room.power_levels", "")


def upgrade_room(requester: Requester, room_id: str, new_version: str, *,
                 additional_creators: list[str] = ()) -> str:
    """Upgrade the room; returns the replacement room's ID."""
    suspension.ensure_not_suspended(requester)
    user_id = requester.user_id
    version = get_room_version(new_version)
    extra_creators = list(dict.fromkeys(additional_creators))
    for creator in extra_creators:
        if not identifiers.is_valid_user_id(creator):
            raise errors.InvalidParam(f"{creator!r} is not a valid user ID")
    with write_transaction():
        # An unknown room is 404 as Synapse (join tells the same); a known one 403 unless in it.
        old = RoomAppender.lock(room_id, missing=errors.NotFound, missing_message="Unknown room")
        _check_may_upgrade(old, user_id)
        new = _create_replacement(old, user_id, version,
                                  extra_creators if version.room_id_from_create_event else [])
        alias_changes.move_aliases(room_id, new.room_id)
        _copy_canonical_alias(old, new, user_id)
        _copy_bans(old, new, user_id)
        old.append(user_id, "m.room.tombstone",
                   {"body": "This room has been replaced", "replacement_room": new.room_id}, "")
        _restrict_old_room(old, user_id)
        if old.room.is_public:
            Room.update(is_public=False).where(Room.room_id == room_id).execute()
            Room.update(is_public=True).where(Room.room_id == new.room_id).execute()
    return new.room_id


def _check_may_upgrade(old: RoomAppender, user_id: str) -> None:
    auth_state = old.state([CREATE_KEY, POWER_KEY, (MEMBER, user_id)])
    if old.membership(user_id) != "join":
        raise errors.Forbidden("You are not in this room")
    needed = power_levels.event_level(auth_state, "m.room.tombstone", True, old.version)
    if power_levels.user_level(auth_state, user_id, old.version) < needed:
        raise errors.Forbidden(f"Upgrading this room requires power level {needed} "
                               "(to send m.room.tombstone)")


def _content(appender: RoomAppender, key) -> dict:
    event = appender.state_event(key)
    content = event.get("content") if event else None
    return dict(content) if isinstance(content, dict) else {}


def _create_replacement(old: RoomAppender, user_id: str, version: RoomVersion,
                        extra_creators: list[str]) -> RoomAppender:
    old_create = _content(old, CREATE_KEY)
    create = {"room_version": version.identifier,
              "predecessor": {"room_id": old.room_id, "event_id": old.room.latest_event_id}}
    if "type" in old_create:
        create["type"] = old_create["type"]
    if old_create.get("m.federate") is False:
        create["m.federate"] = False
    if not version.creator_is_create_sender:
        create["creator"] = user_id
    if extra_creators:
        create["additional_creators"] = extra_creators
    room_id = None if version.room_id_from_create_event else new_room_id(
        identifiers.server_of(user_id))
    new = RoomAppender.new(room_id, version, user_id)
    new.append(user_id, "m.room.create", create, "")
    new.append(user_id, MEMBER, {"membership": "join", **member_profile(user_id)}, user_id)

    final_levels = _new_power_levels(old, new, user_id, version)
    needed = _highest_level(final_levels)
    if not version.room_id_from_create_event and _level_in(final_levels, user_id) < needed:
        # Raise the upgrader just long enough to copy the state, as the old room allowed.
        temporary = dict(final_levels)
        temporary["users"] = {**final_levels.get("users", {}), user_id: needed}
        new.append(user_id, "m.room.power_levels", temporary, "")
    for event_type in TRANSFERRED_STATE:
        if event_type == "m.room.power_levels":
            if new.state_event(POWER_KEY) is None:
                new.append(user_id, event_type, final_levels, "")
            continue
        content = _content(old, (event_type, ""))
        if old.state_event((event_type, "")) is None:
            continue
        if event_type == "m.room.join_rules":
            content = _retarget_allow(content, old.room_id, new.room_id)
        new.append(user_id, event_type, content, "")
    if new.state_event(POWER_KEY).get("content") != final_levels:
        new.append(user_id, "m.room.power_levels", final_levels, "")
    return new


def _new_power_levels(old: RoomAppender, new: RoomAppender, user_id: str,
                      version: RoomVersion) -> dict:
    """The old room's power levels in the new version's terms: integer values, v12 creators
    not listed, and (leaving v12) the old creators listed at 100."""
    content = _content(old, POWER_KEY)
    auth_state = old.state([CREATE_KEY, POWER_KEY])
    levels: dict = {}
    for key in power_levels.LEVEL_KEYS:
        if key in content:
            value = power_levels.parse_level(content[key])
            if value is not None:
                levels[key] = value
    for name in ("events", "notifications", "users"):
        mapping = content.get(name)
        if isinstance(mapping, dict):
            levels[name] = {k: v for k, v in ((k, power_levels.parse_level(v))
                                              for k, v in mapping.items()) if v is not None}
    for key, value in content.items():
        if key not in levels and key not in power_levels.LEVEL_KEYS and key not in (
                "events", "notifications", "users"):
            levels[key] = value
    users = levels.setdefault("users", {})
    if version.room_id_from_create_event:
        creators = power_levels.creators(new.state([CREATE_KEY]), version)
        for creator in creators:
            users.pop(creator, None)
    elif old.version.room_id_from_create_event:
        for creator in power_levels.creators(auth_state, old.version):
            users[creator] = max(users.get(creator, 0), 100)
    if not content:
        levels.update(users={} if version.room_id_from_create_event else {user_id: 100})
    return levels


def _level_in(levels: dict, user_id: str) -> int:
    users = levels.get("users") or {}
    return users.get(user_id, levels.get("users_default", 0))


def _highest_level(levels: dict) -> int:
    values = [levels.get("state_default", 50), levels.get("users_default", 0)]
    values += list((levels.get("events") or {}).values())
    return max(v for v in values if isinstance(v, int))


def _retarget_allow(content: dict, old_room_id: str, replacement: str) -> dict:
    """A restricted room that allowed members of itself now allows members of its successor."""
    allow = content.get("allow")
    if not isinstance(allow, list):
        return content
    content = dict(content)
    content["allow"] = [{**a, "room_id": replacement}
                        if isinstance(a, dict) and a.get("room_id") == old_room_id else a
                        for a in allow]
    return content


def _copy_canonical_alias(old: RoomAppender, new: RoomAppender, user_id: str) -> None:
    content = _content(old, ("m.room.canonical_alias", ""))
    if not content:
        return
    try:
        new.append(user_id, "m.room.canonical_alias", content, "")
    except errors.MatrixError as exc:
        if exc.errcode not in ("M_BAD_ALIAS", "M_FORBIDDEN", "M_INVALID_PARAM"):
            raise
    try:
        old.append(user_id, "m.room.canonical_alias", {}, "")
    except errors.Forbidden:
        pass


def _copy_bans(old: RoomAppender, new: RoomAppender, user_id: str) -> None:
    banned = [u for (u,) in CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == old.room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "ban")).tuples()]
    for target in banned:
        try:
            new.append(user_id, MEMBER, {"membership": "ban"}, target)
        except errors.Forbidden:
            continue


def _restrict_old_room(old: RoomAppender, user_id: str) -> None:
    content = _content(old, POWER_KEY)
    users_default = power_levels.parse_level(content.get("users_default", 0)) or 0
    restricted = max(50, users_default + 1)
    content["events_default"] = restricted
    content["invite"] = restricted
    try:
        old.append(user_id, "m.room.power_levels", content, "")
    except errors.MatrixError:
        pass  # best effort: the tombstone already tells clients to move
