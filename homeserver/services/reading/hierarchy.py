"""GET /v1/rooms/{roomId}/hierarchy (spec module "Spaces"): a depth-first walk of the space tree
from ``m.space.child`` state events.

The walk lists a room, then walks its children (in the spec's child order) before the rooms
after it, so a child space is explored before its parent's later children. Each room is listed
once (which also breaks loops). A room is listed only when the user may see it: they are
joined or invited, or the room is world_readable, public, knockable, or restricted to a room
they are joined to (spec: the ``rooms`` field). A banned user sees the room only if it is
world_readable. Rooms this server does not know are left out (no federation). Only space-rooms
(``m.room.create`` type ``m.space``) have children.

``max_depth`` counts from the requested room (depth 0): rooms at that depth are listed but not
walked into. Pagination: where the walk stopped is stored (``HierarchyPage``) under a random
token, bound to the user, the room and the ``suggested_only``/``max_depth`` of the first
request; tokens expire after an hour.
"""

from __future__ import annotations

import json
import secrets

from ... import db, errors
from ...db import write_transaction
from ...models.hierarchy import HierarchyPage
from ...models.rooms import Room
from ..event_types import SPACE_CHILD as CHILD
from ..rooms import directory
from ..rooms import state as room_state
from ..rooms.room_versions import get_room_version
from .snapshot import read_snapshot

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_DEPTH = 50
PAGE_TTL_MS = 60 * 60 * 1000
_ROOM_TYPES = ["m.room.create", "m.room.join_rules", "m.room.history_visibility",
               "m.room.encryption", CHILD]


def hierarchy(user_id: str, room_id: str, *, suggested_only: bool = False,
              limit: int | None = None, max_depth: int | None = None,
              from_token: str | None = None) -> dict:
    limit = min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT)
    max_depth = min(MAX_DEPTH if max_depth is None else max_depth, MAX_DEPTH)
    if from_token is not None:
        stack, seen = _resume(user_id, room_id, from_token, suggested_only, max_depth)
    else:
        stack, seen = [[room_id, 0]], set()
    rooms: list[dict] = []
    with read_snapshot():
        if from_token is None:
            info = _RoomInfo.load(room_id, user_id)
            if info is None or not info.accessible():
                raise errors.Forbidden("You are not allowed to view this room")
        while stack and len(rooms) < limit:
            current, depth = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            info = _RoomInfo.load(current, user_id)
            if info is None or not info.accessible():
                continue
            children = info.children()
            rooms.append(info.entry(children))
            if depth < max_depth:
                if suggested_only:
                    children = [c for c in children if c["content"].get("suggested") is True]
                for child in reversed(children):
                    if child["state_key"] not in seen:
                        stack.append([child["state_key"], depth + 1])
        summaries = directory.summaries([entry["room_id"] for entry in rooms])
    body: dict = {"rooms": [{**summaries[entry["room_id"]], **entry} for entry in rooms]}
    if stack:
        body["next_batch"] = _save(user_id, room_id, suggested_only, max_depth, stack, seen)
    return body


class _RoomInfo:
    """What the walk needs to know about one room, for one user."""

    def __init__(self, room: Room, user_id: str, state: dict):
        self.room = room
        self.user_id = user_id
        self.state = state  # (type, state_key) -> Event row
        self.version = get_room_version(room.room_version)

    @classmethod
    def load(cls, room_id: str, user_id: str) -> "_RoomInfo | None":
        room = Room.get_or_none(Room.room_id == room_id)
        if room is None:
            return None
        return cls(room, user_id, room_state.current_state(room_id, types=_ROOM_TYPES))

    def content(self, event_type: str, state_key: str = "") -> dict:
        return room_state.content_of(self.state.get((event_type, state_key)))

    @property
    def room_type(self):
        value = self.content("m.room.create").get("type")
        return value if isinstance(value, str) else None

    def accessible(self) -> bool:
        membership = room_state.membership(self.room.room_id, self.user_id)
        if membership in ("join", "invite"):
            return True
        if self.content("m.room.history_visibility").get("history_visibility") \
                == "world_readable":
            return True
        if membership == "ban":
            return False
        rule = self.content("m.room.join_rules").get("join_rule")
        if rule == "public":
            return True
        if rule == "knock" and self.version.knock_allowed:
            return True
        if rule == "knock_restricted" and self.version.knock_restricted_allowed:
            return True
        if rule == "restricted" and self.version.restricted_join_allowed:
            return any(room_state.membership(allowed, self.user_id) == "join"
                       for allowed in self.allowed_room_ids())
        return False

    def allowed_room_ids(self) -> list[str]:
        content = self.content("m.room.join_rules")
        if content.get("join_rule") not in ("restricted", "knock_restricted"):
            return []
        allow = content.get("allow")
        if not isinstance(allow, list):
            return []
        return [entry["room_id"] for entry in allow
                if isinstance(entry, dict) and entry.get("type") == "m.room_membership"
                and isinstance(entry.get("room_id"), str)]

    def children(self) -> list[dict]:
        """The valid m.space.child events (a non-empty ``via``) of a space-room, in the spec's
        order, as stripped state events with ``origin_server_ts``."""
        if self.room_type != "m.space":
            return []
        children = []
        for (event_type, state_key), row in self.state.items():
            if event_type != CHILD:
                continue
            content = room_state.content_of(row)
            via = content.get("via")
            if not (isinstance(via, list) and via and all(isinstance(v, str) for v in via)):
                continue
            children.append({"type": CHILD, "state_key": state_key, "content": content,
                             "sender": row.sender, "origin_server_ts": row.origin_server_ts})
        children.sort(key=_child_order)
        return children

    def entry(self, children: list[dict]) -> dict:
        """The fields of the room's chunk beyond the public-rooms ones."""
        entry: dict = {"room_id": self.room.room_id, "children_state": children,
                       "room_version": self.room.room_version}
        algorithm = self.content("m.room.encryption").get("algorithm")
        if isinstance(algorithm, str):
            entry["encryption"] = algorithm
        allowed = self.allowed_room_ids()
        if allowed:
            entry["allowed_room_ids"] = allowed
        return entry


def _valid_order(value) -> bool:
    return (isinstance(value, str) and len(value) <= 50
            and all("\x20" <= char <= "\x7e" for char in value))


def _child_order(child: dict):
    order = child["content"].get("order")
    if _valid_order(order):
        return (0, order, child["origin_server_ts"], child["state_key"])
    return (1, "", child["origin_server_ts"], child["state_key"])


# --- pagination -----------------------------------------------------------------------------------

def _resume(user_id: str, room_id: str, token: str, suggested_only: bool,
            max_depth: int) -> tuple[list, set]:
    row = HierarchyPage.get_or_none(
        (HierarchyPage.token == token) & (HierarchyPage.user_id == user_id)
        & (HierarchyPage.room_id == room_id)
        & (HierarchyPage.created_ts > db.now_ms() - PAGE_TTL_MS))
    if row is None:
        raise errors.InvalidParam("Unknown pagination token")
    if row.suggested_only != suggested_only or row.max_depth != max_depth:
        raise errors.InvalidParam("suggested_only and max_depth cannot change on paginated "
                                  "requests")
    walk = json.loads(row.walk)
    return walk["stack"], set(walk["seen"])


def _save(user_id: str, room_id: str, suggested_only: bool, max_depth: int, stack: list,
          seen: set) -> str:
    token = secrets.token_urlsafe(24)
    now = db.now_ms()
    with write_transaction():
        HierarchyPage.delete().where(HierarchyPage.created_ts <= now - PAGE_TTL_MS).execute()
        HierarchyPage.insert(token=token, user_id=user_id, room_id=room_id,
                             suggested_only=suggested_only, max_depth=max_depth,
                             walk=json.dumps({"stack": stack, "seen": sorted(seen)}),
                             created_ts=now).execute()
    return token
