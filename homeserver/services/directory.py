"""The published room directory (spec: "Published room directory"): which rooms are listed
(``room.is_public``), who may change that, and GET/POST /publicRooms.

Listing order: most joined members first, then room ID (stable). Pagination tokens are opaque
to clients: ``n<offset>`` continues forwards from offset, ``p<offset>`` goes back from it.
"""

from __future__ import annotations

import json

from .. import errors
from ..identifiers import is_ascii_number
from ..models.rooms import CurrentState, Event, Room
from . import power_levels
from . import state as room_state
from .room_versions import get_room_version

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

_SUMMARY_TYPES = ("m.room.create", "m.room.name", "m.room.topic", "m.room.avatar",
                  "m.room.canonical_alias", "m.room.join_rules", "m.room.history_visibility",
                  "m.room.guest_access")


def _room(room_id: str) -> Room:
    room = Room.get_or_none(Room.room_id == room_id)
    if room is None:
        raise errors.NotFound("Room not found")
    return room


def get_visibility(room_id: str) -> str:
    return "public" if _room(room_id).is_public else "private"


def set_visibility(user_id: str, room_id: str, visibility: str, *,
                   is_admin: bool = False) -> None:
    """Publish or unpublish: server admins, and joined members allowed to set the room's
    canonical alias (the same people who curate how the room is found)."""
    room = _room(room_id)
    if not is_admin:
        rows = room_state.current_state(room_id, types=["m.room.create", "m.room.power_levels"])
        auth_state = {key: json.loads(row.json) for key, row in rows.items()}
        version = get_room_version(room.room_version)
        if room_state.membership(room_id, user_id) != "join" or power_levels.user_level(
                auth_state, user_id, version) < power_levels.event_level(
                auth_state, "m.room.canonical_alias", True, version):
            raise errors.Forbidden("You do not have permission to change this room's "
                                   "visibility in the directory")
    Room.update(is_public=visibility == "public").where(Room.room_id == room_id).execute()


def summaries(room_ids: list[str]) -> dict[str, dict]:
    """The public-rooms chunk of each room (only the spec's fields: some clients build
    objects from these keys and fail on unknown ones)."""
    if not room_ids:
        return {}
    rows = (Event.select(Event.room, Event.type, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where(CurrentState.room.in_(room_ids) & CurrentState.type.in_(_SUMMARY_TYPES)
                   & (CurrentState.state_key == "")))
    contents: dict[str, dict[str, dict]] = {room_id: {} for room_id in room_ids}
    for row in rows:
        content = json.loads(row.json).get("content")
        contents[row.room_id][row.type] = content if isinstance(content, dict) else {}
    counts = room_state.joined_member_count(room_ids)
    return {room_id: _chunk(room_id, contents[room_id], counts[room_id]) for room_id in room_ids}


def _chunk(room_id: str, state: dict[str, dict], joined: int) -> dict:
    def text(event_type: str, key: str) -> str | None:
        value = state.get(event_type, {}).get(key)
        return value if isinstance(value, str) and value else None

    chunk = {
        "room_id": room_id,
        "num_joined_members": joined,
        "world_readable": text("m.room.history_visibility", "history_visibility")
        == "world_readable",
        "guest_can_join": text("m.room.guest_access", "guest_access") == "can_join",
        "join_rule": text("m.room.join_rules", "join_rule") or "public",
    }
    for key, value in (("name", text("m.room.name", "name")),
                       ("topic", _plain_topic(state.get("m.room.topic", {}))),
                       ("avatar_url", text("m.room.avatar", "url")),
                       ("canonical_alias", text("m.room.canonical_alias", "alias")),
                       ("room_type", text("m.room.create", "type"))):
        if value is not None:
            chunk[key] = value
    return chunk


def _plain_topic(content: dict) -> str | None:
    blocks = content.get("m.topic")
    if isinstance(blocks, list):
        for block in blocks:
            if (isinstance(block, dict) and block.get("mimetype", "text/plain") == "text/plain"
                    and isinstance(block.get("body"), str)):
                return block["body"]
    topic = content.get("topic")
    return topic if isinstance(topic, str) and topic else None


def _matches(chunk: dict, search: str | None, room_types: list | None) -> bool:
    if room_types is not None and chunk.get("room_type") not in room_types:
        return False
    if search:
        needle = search.casefold()
        haystack = [chunk.get("name"), chunk.get("topic"), chunk.get("canonical_alias"),
                    chunk["room_id"]]
        if not any(isinstance(h, str) and needle in h.casefold() for h in haystack):
            return False
    return True


def _parse_since(since: str | None) -> tuple[str, int]:
    if since is None:
        return "n", 0
    if since[:1] in ("n", "p") and is_ascii_number(since[1:], 10):
        return since[0], int(since[1:])
    raise errors.InvalidParam("Invalid 'since' token")


def public_rooms(*, limit: int | None = None, since: str | None = None,
                 search: str | None = None, room_types: list | None = None,
                 third_party_instance_id: str | None = None) -> dict:
    """GET/POST /publicRooms for this server's directory."""
    limit = DEFAULT_LIMIT if limit is None or limit == 0 else min(limit, MAX_LIMIT)
    direction, offset = _parse_since(since)
    if third_party_instance_id is not None:
        return {"chunk": [], "total_room_count_estimate": 0}  # no bridged networks here
    room_ids = [r for (r,) in Room.select(Room.room_id).where(Room.is_public == True)  # noqa: E712
                .tuples()]
    chunks = summaries(room_ids)
    listed = [c for c in chunks.values() if _matches(c, search, room_types)]
    listed.sort(key=lambda c: (-c["num_joined_members"], c["room_id"]))
    if direction == "n":
        start = min(offset, len(listed))
    else:
        start = max(0, min(offset, len(listed)) - limit)
    end = min(start + limit, len(listed)) if direction == "n" else min(offset, len(listed))
    page = listed[start:end]
    body: dict = {"chunk": page, "total_room_count_estimate": len(listed)}
    if end < len(listed):
        body["next_batch"] = f"n{end}"
    if start > 0:
        body["prev_batch"] = f"p{start}"
    return body
