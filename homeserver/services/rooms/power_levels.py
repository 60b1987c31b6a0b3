"""Power levels as the authorization rules read them (m.room.power_levels and m.room.create).

``auth_state`` everywhere is the room state the question is asked against:
``{(event_type, state_key): pdu}``. Only the create and power-levels events are read here.

Values follow the room version's content rules: integers everywhere; strings holding integers
in v1-v9 ("stringy" power levels); floats, truncated, in v1-v5. A value that is none of these
counts as absent (its default applies).

v12 room creators have infinitely high power: ``user_level`` returns ``CREATOR_POWER``
(``math.inf``), which compares above every integer. It is never written into an event.
"""

from __future__ import annotations

import math
import re
from typing import Callable

from ... import errors, identifiers
from ..canonical import MAX_SAFE_INTEGER, MIN_SAFE_INTEGER
from .room_versions import RoomVersion

CREATOR_POWER = math.inf

# Level without an m.room.power_levels event: the creator(s) 100, everybody else 0.
CREATOR_DEFAULT_LEVEL = 100

# Defaults of the top-level levels (m.room.power_levels schema; server-server "Definitions").
ACTION_DEFAULTS = {"invite": 0, "kick": 50, "ban": 50, "redact": 50,
                   "state_default": 50, "events_default": 0, "users_default": 0}
NOTIFICATION_DEFAULTS = {"room": 50}

# The integer-valued top-level properties the auth rules check for alterations.
LEVEL_KEYS = ("users_default", "events_default", "state_default", "ban", "redact", "kick",
              "invite")

_STRINGY_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def parse_level(value, version: RoomVersion | None = None) -> int | None:
    """The integer a power level value stands for in ``version``, or None when it is not a
    valid level there. Without a version, every historical form is accepted."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (version is None or not version.integer_power_levels):
        if _STRINGY_INTEGER.fullmatch(value):
            return int(value.strip())
        return None
    if isinstance(value, float) and (version is None or version.float_power_levels):
        if math.isfinite(value):
            return int(value)  # truncation toward zero, as the v1 fragment describes
    return None


def _content(auth_state: dict, key: tuple[str, str]) -> dict | None:
    event = auth_state.get(key)
    if event is None:
        return None
    content = event.get("content")
    return content if isinstance(content, dict) else {}


def power_levels_content(auth_state: dict) -> dict | None:
    """Content of the current m.room.power_levels event, or None when the room has none."""
    return _content(auth_state, ("m.room.power_levels", ""))


def creators(auth_state: dict, version: RoomVersion) -> set[str]:
    """The room's creators: `content.creator` of m.room.create before v11, its sender from
    v11, plus `content.additional_creators` from v12."""
    create = auth_state.get(("m.room.create", ""))
    if create is None:
        return set()
    content = create.get("content") if isinstance(create.get("content"), dict) else {}
    found: set[str] = set()
    if version.creator_is_create_sender:
        if isinstance(create.get("sender"), str):
            found.add(create["sender"])
    elif isinstance(content.get("creator"), str):
        found.add(content["creator"])
    if version.room_id_from_create_event:
        extra = content.get("additional_creators")
        if isinstance(extra, list):
            found.update(u for u in extra if isinstance(u, str))
    return found


def user_level(auth_state: dict, user_id: str, version: RoomVersion) -> int | float:
    """The user's power level; ``CREATOR_POWER`` for v12+ creators."""
    if version.room_id_from_create_event and user_id in creators(auth_state, version):
        return CREATOR_POWER
    content = power_levels_content(auth_state)
    if content is None:
        return CREATOR_DEFAULT_LEVEL if user_id in creators(auth_state, version) else 0
    users = content.get("users")
    if isinstance(users, dict) and user_id in users:
        level = parse_level(users[user_id], version)
        if level is not None:
            return level
    return _level(content, "users_default", version)


def _level(content: dict, key: str, version: RoomVersion | None) -> int:
    level = parse_level(content.get(key), version) if key in content else None
    return ACTION_DEFAULTS[key] if level is None else level


def event_level(auth_state: dict, event_type: str, is_state: bool,
                version: RoomVersion | None = None) -> int:
    """The *required power level* to send an event of this type (``events``, else
    ``state_default``/``events_default``)."""
    content = power_levels_content(auth_state) or {}
    events = content.get("events")
    if isinstance(events, dict) and event_type in events:
        level = parse_level(events[event_type], version)
        if level is not None:
            return level
    return _level(content, "state_default" if is_state else "events_default", version)


def action_level(auth_state: dict, action: str, version: RoomVersion | None = None) -> int:
    """The level of ``invite``, ``kick``, ``ban``, ``redact`` (or ``state_default``,
    ``events_default``, ``users_default``), or of a notification key written
    ``notifications.room``."""
    content = power_levels_content(auth_state) or {}
    if action.startswith("notifications."):
        key = action.split(".", 1)[1]
        notifications = content.get("notifications")
        level = None
        if isinstance(notifications, dict) and key in notifications:
            level = parse_level(notifications[key], version)
        return NOTIFICATION_DEFAULTS.get(key, 50) if level is None else level
    if action not in ACTION_DEFAULTS:
        raise ValueError(f"unknown power level action {action!r}")
    return _level(content, action, version)


def check_levels(content: dict, error: type[errors.MatrixError], *,
                 level_ok: Callable[[object], bool] | None,
                 user_level_ok: Callable[[object], bool]) -> None:
    """The one validator of a power levels content's shape (spec: m.room.power_levels):
    the levels of ``LEVEL_KEYS`` and of the ``events`` and ``notifications`` maps pass
    ``level_ok`` (None: not checked), ``users`` maps valid user IDs to levels that pass
    ``user_level_ok``; otherwise ``error``. The auth rules (per room version) and the check of
    what a client sends (``check_new_content``) differ only in those predicates and the error.
    """
    if level_ok is not None:
        for key in LEVEL_KEYS:
            if key in content and not level_ok(content[key]):
                raise error(f"Power level '{key}' must be an integer")
        for key in ("events", "notifications"):
            if key in content and not (isinstance(content[key], dict) and all(
                    level_ok(v) for v in content[key].values())):
                raise error(f"Power levels '{key}' must map names to integers")
    if "users" in content:
        users = content["users"]
        if not isinstance(users, dict):
            raise error("Power levels 'users' must be an object")
        for user_id, level in users.items():
            if not identifiers.is_valid_user_id(user_id):
                raise error(f"Power levels 'users' has an invalid user ID {user_id!r}")
            if not user_level_ok(level):
                raise error(f"The power level of {user_id} must be an integer")


def check_new_content(content: dict) -> None:
    """M_BAD_JSON unless a power levels content a client sends holds only integer levels.

    Every room version tolerates older forms (strings, floats) in existing events, but the spec
    asks servers to refuse new ones; v10+ also refuse them in the auth rules.
    """
    check_levels(content, errors.BadJson, level_ok=_is_level, user_level_ok=_is_level)


def _is_level(value) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)
            and MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
