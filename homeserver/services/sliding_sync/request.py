"""A sliding sync request (MSC4186) read into plain values, with the operator's bounds
(``sliding_sync`` config section) applied: too many lists, ranges, subscriptions or
required_state entries answer M_INVALID_PARAM; a timeline_limit above the cap is served at
the cap."""

from __future__ import annotations

from dataclasses import dataclass, field

from ... import errors
from .required_state import RequiredState, parse

# Extensions that are on when the request names them with "enabled": true, and stay as the
# client set them on this request only (clients send the whole request every time).
EXTENSIONS = ("to_device", "e2ee", "account_data", "receipts", "typing")


@dataclass(frozen=True)
class RoomConfig:
    timeline_limit: int
    required_state: RequiredState

    def union(self, other: "RoomConfig") -> "RoomConfig":
        return RoomConfig(max(self.timeline_limit, other.timeline_limit),
                          self.required_state.union(other.required_state))

    def key(self) -> str:
        return f"{self.timeline_limit}:{self.required_state.key()}"


@dataclass(frozen=True)
class ListFilters:
    """Sets, so that a request listing many values costs one lookup per room."""
    is_dm: bool | None = None
    spaces: frozenset[str] | None = None
    is_encrypted: bool | None = None
    is_invite: bool | None = None
    room_types: frozenset[str | None] | None = None
    not_room_types: frozenset[str | None] = frozenset()
    tags: frozenset[str] | None = None
    not_tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ListSpec:
    name: str
    ranges: tuple[tuple[int, int], ...] | None   # None: every room of the list
    config: RoomConfig
    filters: ListFilters


@dataclass(frozen=True)
class Extension:
    lists: frozenset[str] | None   # None: every list ("*")
    rooms: frozenset[str] | None   # None: every subscription ("*")
    since: str | None = None        # to_device only

    def covers_list(self, name: str) -> bool:
        return self.lists is None or name in self.lists

    def covers_subscription(self, room_id: str) -> bool:
        return self.rooms is None or room_id in self.rooms


@dataclass(frozen=True)
class Request:
    conn_id: str
    lists: tuple[ListSpec, ...]
    subscriptions: dict[str, RoomConfig]
    extensions: dict[str, Extension] = field(default_factory=dict)


def _config(data: dict, user_id: str, limits: dict) -> RoomConfig:
    return RoomConfig(min(data["timeline_limit"], limits["max_timeline_limit"]),
                      parse(data.get("required_state"), user_id, limits["max_required_state"]))


def _set(values):
    return None if values is None else frozenset(values)


def _filters(data: dict | None) -> ListFilters:
    data = data or {}
    is_invite = data.get("is_invite")
    if is_invite is None:
        is_invite = data.get("is_invited")
    return ListFilters(is_dm=data.get("is_dm"), spaces=_set(data.get("spaces")),
                       is_encrypted=data.get("is_encrypted"), is_invite=is_invite,
                       room_types=_set(data.get("room_types")),
                       not_room_types=frozenset(data.get("not_room_types") or ()),
                       tags=_set(data.get("tags")),
                       not_tags=frozenset(data.get("not_tags") or ()))


def _ranges(data: dict, limits: dict) -> tuple[tuple[int, int], ...] | None:
    ranges = data.get("ranges")
    if ranges is None and data.get("range") is not None:
        ranges = [data["range"]]
    if ranges is None:
        return None
    if len(ranges) > limits["max_ranges_per_list"]:
        raise errors.InvalidParam(
            f"A list may have at most {limits['max_ranges_per_list']} ranges")
    for start, end in ranges:
        if start > end:
            raise errors.InvalidParam("A range's start must not be after its end")
    return tuple((start, end) for start, end in ranges)


def read(body: dict, user_id: str, limits: dict) -> Request:
    """``body`` as ``schemas.sliding_sync.SlidingSyncBody`` loaded it."""
    if len(body["lists"]) > limits["max_lists"]:
        raise errors.InvalidParam(f"At most {limits['max_lists']} lists per request")
    if len(body["room_subscriptions"]) > limits["max_room_subscriptions"]:
        raise errors.InvalidParam(
            f"At most {limits['max_room_subscriptions']} room subscriptions per request")
    lists = tuple(ListSpec(name, _ranges(data, limits), _config(data, user_id, limits),
                           _filters(data.get("filters")))
                  for name, data in sorted(body["lists"].items()))
    subscriptions = {room_id: _config(data, user_id, limits)
                     for room_id, data in body["room_subscriptions"].items()}
    extensions = {}
    for name in EXTENSIONS:
        data = (body.get("extensions") or {}).get(name)
        if data and data.get("enabled"):
            lists_value, rooms_value = data.get("lists"), data.get("rooms")
            extensions[name] = Extension(
                lists=None if lists_value is None or "*" in lists_value
                else frozenset(lists_value),
                rooms=None if rooms_value is None or "*" in rooms_value
                else frozenset(rooms_value),
                since=data.get("since"))
    return Request(body.get("conn_id") or "", lists, subscriptions, extensions)
