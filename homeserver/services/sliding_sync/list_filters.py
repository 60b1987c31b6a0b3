"""List ``filters`` of sliding sync (MSC4186 ``SlidingRoomFilter``), as Synapse applies them:
``is_dm`` (the rooms of the user's ``m.direct``), ``is_invite``, ``spaces`` (direct
``m.space.child`` children of the given spaces the user is joined to), ``is_encrypted``,
``room_types``/``not_room_types`` (the create event's ``type``; null for none) and
``tags``/``not_tags`` (``m.tag`` room account data). Facts are read once per request, for the
candidate rooms only, and only those a list's filters need."""

from __future__ import annotations

import json

from ...cached_attribute import cached_attribute
from ...models.account_data import AccountData
from ...models.rooms import CurrentState, Event
from ..event_types import CREATE, ENCRYPTION, SPACE_CHILD
from ..userdata import account_data
from .request import ListFilters
from .room_list import Candidate

CHUNK = 500


def _content(text: str) -> dict:
    content = json.loads(text).get("content")
    return content if isinstance(content, dict) else {}


class RoomFacts:
    """What the filters ask of the user's rooms, loaded lazily, once."""

    def __init__(self, user_id: str, room_ids: list[str]):
        self.user_id = user_id
        self.room_ids = sorted(room_ids)

    @cached_attribute
    def dm_rooms(self) -> set[str]:
        content = account_data.get(self.user_id, "m.direct") or {}
        return {room_id for rooms in content.values() if isinstance(rooms, list)
                for room_id in rooms if isinstance(room_id, str)}

    def _state(self, event_type: str, room_ids: list[str]):
        for start in range(0, len(room_ids), CHUNK):
            yield from (Event.select(Event.room_id, Event.state_key, Event.json)
                        .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
                        .where(CurrentState.room.in_(room_ids[start:start + CHUNK])
                               & (CurrentState.type == event_type)).tuples())

    @cached_attribute
    def encrypted(self) -> set[str]:
        return {room_id for room_id, _, _ in self._state(ENCRYPTION, self.room_ids)}

    @cached_attribute
    def room_types(self) -> dict[str, str | None]:
        types = {}
        for room_id, state_key, text in self._state(CREATE, self.room_ids):
            if state_key == "":
                value = _content(text).get("type")
                types[room_id] = value if isinstance(value, str) else None
        return types

    @cached_attribute
    def tags(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        rows = (AccountData.select(AccountData.room_id, AccountData.content)
                .where((AccountData.user_id == self.user_id) & (AccountData.type == "m.tag"))
                .tuples())
        for room_id, text in rows:
            tags = json.loads(text).get("tags")
            if isinstance(tags, dict) and tags:
                found[room_id] = set(tags)
        return found

    def space_children(self, spaces: frozenset[str], joined: set[str]) -> set[str]:
        wanted = sorted(spaces & joined)
        return {state_key for _, state_key, text in self._state(SPACE_CHILD, wanted)
                if _content(text)}


def apply(filters: ListFilters, rooms: list[Candidate], facts: RoomFacts,
          joined: set[str]) -> list[Candidate]:
    """The rooms of ``rooms`` that pass ``filters`` (order kept)."""
    keep = list(rooms)
    if filters.is_dm is not None:
        keep = [c for c in keep if (c.room_id in facts.dm_rooms) == filters.is_dm]
    if filters.is_invite is not None:
        keep = [c for c in keep if (c.kind == "invite") == filters.is_invite]
    if filters.is_encrypted is not None:
        keep = [c for c in keep if (c.room_id in facts.encrypted) == filters.is_encrypted]
    if filters.spaces is not None:
        children = facts.space_children(filters.spaces, joined)
        keep = [c for c in keep if c.room_id in children]
    if filters.room_types is not None or filters.not_room_types:
        types = facts.room_types
        if filters.room_types is not None:
            keep = [c for c in keep if types.get(c.room_id) in filters.room_types]
        keep = [c for c in keep if types.get(c.room_id) not in filters.not_room_types]
    if filters.tags is not None or filters.not_tags:
        tags = facts.tags
        if filters.tags is not None:
            keep = [c for c in keep if tags.get(c.room_id, set()) & filters.tags]
        keep = [c for c in keep if not tags.get(c.room_id, set()) & filters.not_tags]
    return keep
