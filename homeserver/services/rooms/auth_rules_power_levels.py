"""The m.room.power_levels part of the authorization rules ("If type is m.room.power_levels"),
for room versions 1-12: value validation (integer-only from v10), v12's creators-not-in-users,
and who may change which level."""

from __future__ import annotations

from ... import errors
from . import power_levels
from .power_levels import LEVEL_KEYS, parse_level
from .room_versions import RoomVersion

_ABSENT = object()


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _validate(version: RoomVersion, content: dict, auth_state: dict) -> None:
    power_levels.check_levels(
        content, errors.Forbidden, level_ok=_is_integer if version.integer_power_levels else None,
        user_level_ok=lambda level: parse_level(level, version) is not None)
    if "users" in content and version.room_id_from_create_event:
        named = power_levels.creators(auth_state, version) & set(content["users"])
        if named:
            raise errors.Forbidden("Room creators cannot be given a power level: "
                                   + ", ".join(sorted(named)))


def _value(mapping, key, version):
    """The parsed level at ``key``; _ABSENT when missing, None when unparseable."""
    if not isinstance(mapping, dict) or key not in mapping:
        return _ABSENT
    return parse_level(mapping[key], version)


def _above(value, limit) -> bool:
    return value is not _ABSENT and value is not None and value > limit


def _at_or_above(value, limit) -> bool:
    return value is not _ABSENT and value is not None and value >= limit


def _refuse(what: str, sender_level) -> None:
    shown = "infinite" if sender_level == power_levels.CREATOR_POWER else sender_level
    raise errors.Forbidden(f"You cannot change {what}: it is above your power level ({shown})")


def check_power_levels(version: RoomVersion, pdu: dict, content: dict, auth_state: dict,
                       sender_level) -> None:
    _validate(version, content, auth_state)
    old = power_levels.power_levels_content(auth_state)
    if old is None:
        return  # the room's first power levels event

    for key in LEVEL_KEYS:
        before, after = _value(old, key, version), _value(content, key, version)
        if before != after:
            if _above(before, sender_level) or _above(after, sender_level):
                _refuse(f"'{key}'", sender_level)

    maps = ("events", "notifications") if version.limit_notifications_power_levels \
        else ("events",)
    for name in maps:
        old_map = old.get(name) if isinstance(old.get(name), dict) else {}
        new_map = content.get(name) if isinstance(content.get(name), dict) else {}
        for key in set(old_map) | set(new_map):
            before, after = _value(old_map, key, version), _value(new_map, key, version)
            if before != after and (_above(before, sender_level) or _above(after, sender_level)):
                _refuse(f"the level of {name} '{key}'", sender_level)

    sender = pdu["sender"]
    old_users = old.get("users") if isinstance(old.get("users"), dict) else {}
    new_users = content.get("users") if isinstance(content.get("users"), dict) else {}
    for user_id in set(old_users) | set(new_users):
        before, after = _value(old_users, user_id, version), _value(new_users, user_id, version)
        if before == after:
            continue
        if user_id != sender and _at_or_above(before, sender_level):
            raise errors.Forbidden(f"You cannot change the power level of {user_id}: it is not "
                                   "below yours")
        if _above(after, sender_level):
            _refuse(f"the power level of {user_id} to {after}", sender_level)
