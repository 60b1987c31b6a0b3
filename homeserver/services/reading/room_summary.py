"""GET /v1/room_summary/{roomIdOrAlias} (spec: "Room Summaries"): what a client shows about a
room before joining it.

Who may see a summary (the rules of the spec's space hierarchy and its MSC): anyone, even
without an access token, when the room's join rule is public, knock or knock_restricted, or
its history is world_readable; besides those, a user who is joined, invited or knocking, and
a user joined to one of the rooms a restricted (or knock_restricted) join rule allows. Every
other room answers 404 M_NOT_FOUND, like a room that does not exist, so the endpoint does not
reveal which private rooms exist. Without a token, such rooms answer 401 M_MISSING_TOKEN (a
token might make them visible).

The summary is the public-rooms chunk (``services.rooms.directory``) plus ``room_version``,
``encryption``, ``allowed_room_ids`` and the requester's ``membership``.
"""

from __future__ import annotations

from ... import errors
from ...models.rooms import CurrentState
from ..event_types import MEMBER
from ..rooms import directory
from ..rooms import state as room_state
from ..rooms.aliases import resolve_room

OPEN_JOIN_RULES = ("public", "knock", "knock_restricted")
RESTRICTED_JOIN_RULES = ("restricted", "knock_restricted")
# The only algorithm the summary schema names; others are left out rather than misreported.
KNOWN_ENCRYPTION = ("m.megolm.v1.aes-sha2",)


def _allowed_room_ids(join_rules: dict) -> list[str]:
    return [entry["room_id"] for entry in join_rules.get("allow") or []
            if isinstance(entry, dict) and entry.get("type") == "m.room_membership"
            and isinstance(entry.get("room_id"), str)]


def _joined_any(user_id: str, room_ids: list[str]) -> bool:
    return bool(room_ids) and CurrentState.select().where(
        CurrentState.room.in_(room_ids) & (CurrentState.type == MEMBER)
        & (CurrentState.state_key == user_id) & (CurrentState.membership == "join")).exists()


def room_summary(user_id: str | None, room_id_or_alias: str) -> dict:
    """The summary for ``user_id`` (None: an unauthenticated request)."""
    room_id = resolve_room(room_id_or_alias)
    version = room_state.room_version(room_id)
    if version is None:
        if user_id is None:
            raise errors.MissingToken()
        raise errors.NotFound("Room not found")
    summary = directory.summaries([room_id])[room_id]
    join_rules = room_state.content_of(room_state.state_event(room_id, "m.room.join_rules", ""))
    allowed = (_allowed_room_ids(join_rules)
               if summary["join_rule"] in RESTRICTED_JOIN_RULES else [])
    membership = room_state.membership(room_id, user_id) if user_id is not None else None

    visible = summary["join_rule"] in OPEN_JOIN_RULES or summary["world_readable"]
    if not visible and user_id is not None:
        visible = membership in ("join", "invite", "knock") or _joined_any(user_id, allowed)
    if not visible:
        if user_id is None:
            raise errors.MissingToken()
        raise errors.NotFound("Room not found or not visible to you")

    summary["room_version"] = version
    encryption = room_state.content_of(
        room_state.state_event(room_id, "m.room.encryption", "")).get("algorithm")
    if encryption in KNOWN_ENCRYPTION:
        summary["encryption"] = encryption
    if allowed:
        summary["allowed_room_ids"] = allowed
    if user_id is not None:
        summary["membership"] = membership or "leave"
    return summary
