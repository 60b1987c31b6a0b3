"""Filters (spec: Filtering): storing them, and applying them to events.

A filter arrives validated (``schemas/filters.py``) as a dict; ``Filter.from_definition`` turns it
into the objects the sync and history code apply. Event type patterns take ``*`` as a wildcard
for any sequence of characters (other characters are literal); they are matched by
``services/globs.py`` in time linear in the type, each list in one pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import peewee

from ... import errors
from ...db import now_ms, write_transaction
from ...identifiers import is_ascii_number
from ...models.filters import Filter as StoredFilter
from ...property_paths import split_property_path
from .. import globs
from ..user_lock import lock_user

# Timeline limits: what a filter without one gets, and the most one may ask for.
DEFAULT_TIMELINE_LIMIT = 10
MAX_LIMIT = 1000
# How long a types/not_types glob may be and how many "*" it may hold (the ``filters``
# configuration section, set by ``configure`` when the app is built).
_glob_limits = globs.Limits(max_length=1000, max_wildcards=50)


def configure(section: dict) -> None:
    global _glob_limits
    _glob_limits = globs.Limits(section["max_glob_length"], section["max_glob_wildcards"])


def type_glob_problem(entry: str) -> str | None:
    """Why a types/not_types entry is refused, or None (entries without "*" are exact)."""
    if "*" not in entry:
        return None
    return globs.limit_problem(entry, _glob_limits, question_mark=False)



def _like_pattern(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%")


def _tuple(value) -> tuple | None:
    return tuple(value) if value is not None else None


@dataclass(frozen=True)
class EventFilter:
    """An EventFilter or RoomEventFilter. ``None`` lists mean "no restriction"."""

    limit: int | None = None
    types: tuple | None = None
    not_types: tuple = ()
    senders: tuple | None = None
    not_senders: tuple = ()
    rooms: tuple | None = None
    not_rooms: tuple = ()
    contains_url: bool | None = None
    lazy_load_members: bool = False
    include_redundant_members: bool = False
    unread_thread_notifications: bool = False
    # Compiled forms of the lists above (built once; each row is then matched in one pass).
    _types: globs.TypeMatcher | None = field(default=None, init=False, repr=False,
                                             compare=False)
    _not_types: globs.TypeMatcher | None = field(default=None, init=False, repr=False,
                                                 compare=False)
    _sets: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.types is not None:
            object.__setattr__(self, "_types", globs.type_matcher(self.types))
        object.__setattr__(self, "_not_types", globs.type_matcher(self.not_types))
        object.__setattr__(self, "_sets", tuple(
            frozenset(v) if v is not None else None for v in (
                self.senders, self.not_senders, self.rooms, self.not_rooms)))

    @classmethod
    def from_definition(cls, data: dict | None) -> "EventFilter":
        data = data or {}
        return cls(
            limit=data.get("limit"),
            types=_tuple(data.get("types")),
            not_types=tuple(data.get("not_types") or ()),
            senders=_tuple(data.get("senders")),
            not_senders=tuple(data.get("not_senders") or ()),
            rooms=_tuple(data.get("rooms")),
            not_rooms=tuple(data.get("not_rooms") or ()),
            contains_url=data.get("contains_url"),
            lazy_load_members=bool(data.get("lazy_load_members", False)),
            include_redundant_members=bool(data.get("include_redundant_members", False)),
            unread_thread_notifications=bool(data.get("unread_thread_notifications", False)),
        )

    def limit_or(self, default: int) -> int:
        return min(self.limit if self.limit is not None else default, MAX_LIMIT)

    # --- matching ---------------------------------------------------------------------------

    def allows_type(self, event_type: str) -> bool:
        if self._not_types.matches(event_type):
            return False
        return self._types is None or self._types.matches(event_type)

    def allows_sender(self, sender: str) -> bool:
        senders, not_senders = self._sets[0], self._sets[1]
        if sender in not_senders:
            return False
        return senders is None or sender in senders

    def allows_room(self, room_id: str) -> bool:
        rooms, not_rooms = self._sets[2], self._sets[3]
        if room_id in not_rooms:
            return False
        return rooms is None or room_id in rooms

    def matches(self, event: dict, room_id: str | None = None) -> bool:
        """Whether an event (client or PDU shape: type, sender, content) passes this filter.

        ``room_id`` applies the room lists; events without a sender (e.g. ephemeral ones) are
        judged on their type and room only.
        """
        event_type = event.get("type")
        if not isinstance(event_type, str) or not self.allows_type(event_type):
            return False
        sender = event.get("sender")
        if isinstance(sender, str) and not self.allows_sender(sender):
            return False
        if room_id is not None and not self.allows_room(room_id):
            return False
        if self.contains_url is not None:
            content = event.get("content")
            has_url = isinstance(content, dict) and isinstance(content.get("url"), str)
            if has_url != self.contains_url:
                return False
        return True

    def filter(self, events: list[dict], room_id: str | None = None) -> list[dict]:
        return [event for event in events if self.matches(event, room_id)]

    @property
    def is_trivial(self) -> bool:
        """True when it lets every event through (only limit/lazy-loading options set)."""
        return (self.types is None and not self.not_types and self.senders is None
                and not self.not_senders and self.contains_url is None)

    def sql_condition(self, type_column, sender_column):
        """A peewee condition narrowing rows in SQL, or None. A superset of ``matches``: callers
        still apply ``matches`` (SQLite's LIKE ignores case, and contains_url needs content)."""
        conditions = []
        if self.types is not None:
            exact = [t for t in self.types if "*" not in t]
            globs = [t for t in self.types if "*" in t]
            parts = []
            if exact:
                parts.append(type_column.in_(exact))
            for glob in globs:
                parts.append(peewee.NodeList((type_column, peewee.SQL("LIKE"),
                                              _like_pattern(glob), peewee.SQL("ESCAPE '\\'"))))
            if not parts:
                return peewee.SQL("1 = 0")
            condition = parts[0]
            for part in parts[1:]:
                condition = condition | part
            conditions.append(condition)
        exact_not = [t for t in self.not_types if "*" not in t]
        if exact_not:
            conditions.append(type_column.not_in(exact_not))
        if self.senders is not None:
            conditions.append(sender_column.in_(list(self.senders)) if self.senders
                              else peewee.SQL("1 = 0"))
        if self.not_senders:
            conditions.append(sender_column.not_in(list(self.not_senders)))
        if not conditions:
            return None
        result = conditions[0]
        for condition in conditions[1:]:
            result = result & condition
        return result


@dataclass(frozen=True)
class RoomFilter:
    rooms: tuple | None = None
    not_rooms: tuple = ()
    include_leave: bool = False
    timeline: EventFilter = field(default_factory=EventFilter)
    state: EventFilter = field(default_factory=EventFilter)
    ephemeral: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)

    @classmethod
    def from_definition(cls, data: dict | None) -> "RoomFilter":
        data = data or {}
        return cls(
            rooms=_tuple(data.get("rooms")),
            not_rooms=tuple(data.get("not_rooms") or ()),
            include_leave=bool(data.get("include_leave", False)),
            timeline=EventFilter.from_definition(data.get("timeline")),
            state=EventFilter.from_definition(data.get("state")),
            ephemeral=EventFilter.from_definition(data.get("ephemeral")),
            account_data=EventFilter.from_definition(data.get("account_data")),
        )

    def allows_room(self, room_id: str) -> bool:
        """The room-level lists, applied before the per-section filters."""
        if room_id in self.not_rooms:
            return False
        return self.rooms is None or room_id in self.rooms


@dataclass(frozen=True)
class Filter:
    """A whole filter (the Filter object of POST /user/{userId}/filter)."""

    event_fields: tuple | None = None
    event_format: str = "client"
    presence: EventFilter = field(default_factory=EventFilter)
    account_data: EventFilter = field(default_factory=EventFilter)
    room: RoomFilter = field(default_factory=RoomFilter)

    @classmethod
    def from_definition(cls, data: dict | None) -> "Filter":
        data = data or {}
        return cls(
            event_fields=_tuple(data.get("event_fields")),
            event_format=data.get("event_format", "client"),
            presence=EventFilter.from_definition(data.get("presence")),
            account_data=EventFilter.from_definition(data.get("account_data")),
            room=RoomFilter.from_definition(data.get("room")),
        )


# --- event_fields -------------------------------------------------------------------------------

def apply_event_fields(event: dict, event_fields: tuple | None) -> dict:
    """Only the requested fields of an event (all of them when ``event_fields`` is None)."""
    if event_fields is None:
        return event
    result: dict = {}
    for path in event_fields:
        keys = split_property_path(path)
        source, target = event, result
        for depth, key in enumerate(keys):
            if not isinstance(source, dict) or key not in source:
                break
            if depth == len(keys) - 1:
                target[key] = source[key]
            else:
                source = source[key]
                existing = target.get(key)
                if not isinstance(existing, dict):
                    existing = target[key] = {}
                target = existing
    return result


# --- storage ------------------------------------------------------------------------------------

def _check_own(requester_user_id: str, user_id: str, verb: str) -> None:
    if requester_user_id != user_id:
        raise errors.Forbidden(f"Cannot {verb} filters for other users")


def create_filter(requester_user_id: str, user_id: str, definition: dict,
                  max_filters: int | None = None) -> str:
    """Store a validated filter for the requester; the same definition gets the same ID.

    A user keeps at most ``max_filters`` (``per_user_limits.max_filters``): storing one more
    drops their oldest, so POSTing endless distinct filters cannot grow the table. Clients
    create a filter or two and reuse them; one whose old filter ID is gone makes a new one.
    """
    _check_own(requester_user_id, user_id, "create")
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with write_transaction():
        lock_user(user_id)
        owned = StoredFilter.user_id == user_id
        existing = (StoredFilter.select(StoredFilter.id)
                    .where(owned & (StoredFilter.definition == text)).first())
        if existing is not None:
            return str(existing.id)
        filter_id = StoredFilter.insert(user_id=user_id, definition=text,
                                        created_ts=now_ms()).execute()
        if max_filters is not None:
            keep = (StoredFilter.select(StoredFilter.id).where(owned)
                    .order_by(StoredFilter.id.desc()).limit(max_filters))
            StoredFilter.delete().where(owned & StoredFilter.id.not_in(keep)).execute()
    return str(filter_id)


def _load(user_id: str, filter_id: str) -> dict | None:
    if not is_ascii_number(filter_id):
        return None
    row = (StoredFilter.select(StoredFilter.definition)
           .where((StoredFilter.id == int(filter_id)) & (StoredFilter.user_id == user_id))
           .first())
    return json.loads(row.definition) if row is not None else None


def get_filter(requester_user_id: str, user_id: str, filter_id: str) -> dict:
    _check_own(requester_user_id, user_id, "get")
    definition = _load(user_id, filter_id)
    if definition is None:
        raise errors.NotFound("No such filter")
    return definition


def resolve(user_id: str, definition_or_id: dict | str | None) -> Filter:
    """The filter a request names: an inline (validated) definition, a stored filter ID of the
    user, or nothing (the default filter). An unknown ID is M_INVALID_PARAM."""
    if definition_or_id is None:
        return Filter()
    if isinstance(definition_or_id, dict):
        return Filter.from_definition(definition_or_id)
    definition = _load(user_id, definition_or_id)
    if definition is None:
        raise errors.InvalidParam(f"No such filter: {definition_or_id}")
    return Filter.from_definition(definition)


def resolve_room_event_filter(user_id: str, definition_or_id: dict | str | None) -> EventFilter:
    """For /messages and /context: an inline RoomEventFilter, or a stored filter's
    ``room.timeline`` part when given a filter ID."""
    if definition_or_id is None:
        return EventFilter()
    if isinstance(definition_or_id, dict):
        return EventFilter.from_definition(definition_or_id)
    return resolve(user_id, definition_or_id).room.timeline
