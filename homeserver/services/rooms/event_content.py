"""Checks of known event contents that clients send, beyond what the auth rules look at.

The auth rules decide *who* may send an event; these checks refuse contents that are malformed
where the rules or the spec depend on their shape: membership values, join rules, integer power
levels, canonical aliases that must resolve to the room (M_BAD_ALIAS), redaction targets.
Called by ``services.writing.events`` inside the writing transaction, before the auth rules.
"""

from __future__ import annotations

from ... import errors, identifiers
from ...models.rooms import RoomAlias
from ..userdata import account_data
from . import power_levels
from .room_versions import RoomVersion

MEMBERSHIPS = ("join", "invite", "leave", "ban", "knock")
INVITE_PERMISSION_CONFIG = "m.invite_permission_config"


class InviteBlocked(errors.MatrixError):
    errcode, status = "M_INVITE_BLOCKED", 403
    default_message = "This user does not accept invites"


def invites_blocked(user_id: str) -> bool:
    """Invite permission (spec module): ``m.invite_permission_config`` with default_action
    ``block`` in the user's account data."""
    config = account_data.get(user_id, INVITE_PERMISSION_CONFIG)
    return isinstance(config, dict) and config.get("default_action") == "block"


class DuplicateAnnotation(errors.MatrixError):
    errcode, status = "M_DUPLICATE_ANNOTATION", 400
    default_message = "You already sent this annotation"


def check(version: RoomVersion, room_id: str, event_type: str, state_key: str | None,
          content: dict, current_state, sender: str) -> None:
    """Raise a MatrixError if ``content`` is not acceptable for an event of this type.

    ``current_state(key) -> pdu | None`` reads the room's current state.
    """
    if state_key is None:
        return
    if event_type == "m.room.aliases":
        _check_aliases_sender(sender, current_state)
    elif event_type == "m.room.member":
        _check_member(version, state_key, content)
    elif event_type == "m.room.power_levels":
        power_levels.check_new_content(content)
    elif event_type == "m.room.join_rules":
        _check_join_rules(content)
    elif event_type == "m.room.canonical_alias":
        previous = current_state(("m.room.canonical_alias", ""))
        previous_content = previous.get("content") if previous else None
        check_canonical_alias(room_id, content, previous_content if isinstance(
            previous_content, dict) else {})
    elif event_type in ("m.room.history_visibility", "m.room.guest_access", "m.room.name",
                        "m.room.topic"):
        _check_string_fields(event_type, content)


def _check_aliases_sender(sender: str, current_state) -> None:
    """Room versions 1-5 let any user of a server set that server's m.room.aliases, joined or
    not; like Synapse (``require_membership_for_aliases``), this server's users must be in
    the room to send one."""
    member = current_state(("m.room.member", sender))
    content = member.get("content") if member else None
    if not isinstance(content, dict) or content.get("membership") != "join":
        raise errors.Forbidden("You must be in the room to set its m.room.aliases")


def _check_member(version: RoomVersion, state_key: str, content: dict) -> None:
    if not identifiers.is_valid_user_id(state_key):
        raise errors.BadJson("The state_key of m.room.member must be a user ID")
    membership = content.get("membership")
    if not isinstance(membership, str):
        raise errors.BadJson("m.room.member content needs a string 'membership'")
    if membership not in MEMBERSHIPS or (membership == "knock" and not version.knock_allowed):
        raise errors.BadJson(f"Unknown membership {membership!r} in room version "
                             f"{version.identifier}")
    for key in ("displayname", "avatar_url", "reason"):
        if key in content and content[key] is not None and not isinstance(content[key], str):
            raise errors.BadJson(f"m.room.member '{key}' must be a string")
    if membership == "invite" and invites_blocked(state_key):
        raise InviteBlocked(f"{state_key} does not accept invites")


def _check_join_rules(content: dict) -> None:
    if not isinstance(content.get("join_rule"), str):
        raise errors.BadJson("m.room.join_rules content needs a string 'join_rule'")
    allow = content.get("allow")
    if allow is not None:
        if not isinstance(allow, list) or not all(isinstance(a, dict) for a in allow):
            raise errors.BadJson("m.room.join_rules 'allow' must be a list of objects")


_STRING_FIELDS = {
    "m.room.history_visibility": "history_visibility",
    "m.room.guest_access": "guest_access",
    "m.room.name": "name",
    "m.room.topic": "topic",
}


def _check_string_fields(event_type: str, content: dict) -> None:
    key = _STRING_FIELDS[event_type]
    if event_type in ("m.room.history_visibility", "m.room.guest_access"):
        if not isinstance(content.get(key), str):
            raise errors.BadJson(f"{event_type} content needs a string '{key}'")
    elif key in content and not isinstance(content[key], str):
        raise errors.BadJson(f"{event_type} '{key}' must be a string")
    if event_type == "m.room.name" and len(content.get("name", "").encode("utf-8")) > 255:
        raise errors.TooLarge("A room name may be at most 255 bytes")


def check_canonical_alias(room_id: str, content: dict, previous: dict) -> None:
    """New aliases must be valid (M_INVALID_PARAM) and point to this room (M_BAD_ALIAS);
    aliases already in the previous event are not checked again (spec: room_state.yaml)."""
    old = set()
    if isinstance(previous.get("alias"), str):
        old.add(previous["alias"])
    if isinstance(previous.get("alt_aliases"), list):
        old.update(a for a in previous["alt_aliases"] if isinstance(a, str))
    new: list[str] = []
    if "alias" in content and content["alias"] is not None:
        if not isinstance(content["alias"], str):
            raise errors.InvalidParam("'alias' must be a room alias")
        new.append(content["alias"])
    if "alt_aliases" in content:
        alt = content["alt_aliases"]
        if not isinstance(alt, list) or not all(isinstance(a, str) for a in alt):
            raise errors.InvalidParam("'alt_aliases' must be a list of room aliases")
        new.extend(alt)
    for alias in new:
        if alias in old:
            continue
        if not identifiers.is_valid_room_alias(alias):
            raise errors.InvalidParam(f"{alias!r} is not a valid room alias")
        row = RoomAlias.get_or_none(RoomAlias.alias == alias)
        if row is None or row.room_id != room_id:
            raise errors.BadAlias(f"The alias {alias} does not point to this room")


# The event table's relates_to_id and relation_type column sizes. No event ID is longer (spec:
# 255 bytes), and a longer rel_type is no relation this server aggregates or can look up.
MAX_RELATED_ID_LENGTH = 255
MAX_REL_TYPE_LENGTH = 64


def relation_of(content: dict) -> tuple[str, str] | None:
    """(event_id, rel_type) of ``content["m.relates_to"]``, when it names both (and both fit
    their columns: a relation that cannot name a real event is not indexed)."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, dict):
        return None
    event_id, rel_type = relates.get("event_id"), relates.get("rel_type")
    if isinstance(event_id, str) and isinstance(rel_type, str) \
            and len(event_id) <= MAX_RELATED_ID_LENGTH and len(rel_type) <= MAX_REL_TYPE_LENGTH:
        return event_id, rel_type
    return None


def annotation_key(content: dict) -> str | None:
    relates = content.get("m.relates_to")
    if isinstance(relates, dict) and relates.get("rel_type") == "m.annotation":
        key = relates.get("key")
        return key if isinstance(key, str) else None
    return None
