"""POST /v3/search (spec module "Server Side Search"), the ``room_events`` category.

Searched: ``content.body`` of m.room.message, ``content.name`` of m.room.name,
``content.topic`` (and the plain-text ``m.topic``) of m.room.topic
(``services.reading.search_index``), in every room the user has been in (left ones too) except
end-to-end encrypted rooms. Only events the user may see are returned (history visibility: nothing
after they left), never those of users they ignore, and the RoomEventFilter narrows the rest.

Ordering: ``rank`` (default; most relevant first, then newest) or ``recent`` (newest first).
One request looks at most ``SCAN_LIMIT`` matching rows; ``count`` is the number of visible
results among the rows looked at from the top of the ordering (exact below that bound).
Pagination tokens (``next_batch``) are opaque: the ordering, where to continue (an offset into
the ranked results, or the stream position below which recent results continue) and, for a
group's token, the group it stays in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import namedtuple
from dataclasses import dataclass, field

from ... import errors
from ...db import database
from ...models.rooms import CurrentState, Event
from ..event_types import MEMBER
from ..rooms import state as room_state
from ..streams import positions as streams
from ..userdata.account_data import ignored_users
from . import search_index
from . import timeline
from .filters import EventFilter
from .relations import bundle_aggregations
from .serialize import serialize_events
from .snapshot import read_snapshot
from .stream_tokens import pagination_token
from .visibility import RoomHistory

KEYS = search_index.KEYS
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SCAN_LIMIT = 2000
DEFAULT_CONTEXT = 5
MAX_CONTEXT = 100


@dataclass
class Criteria:
    """The room_events criteria of a request, validated by ``schemas/search.py``."""

    search_term: str
    keys: tuple[str, ...] = search_index.KEYS
    event_filter: EventFilter = field(default_factory=EventFilter)
    order_by: str = "rank"
    event_context: dict | None = None
    include_state: bool = False
    group_by: tuple[str, ...] = ()


# What filtering and visibility need of a matching event (full rows are read for a page only).
Match = namedtuple("Match", "event_id room_id type state_key sender stream_ordering redacted_by")
_MATCH_COLUMNS = (Event.event_id, Event.room, Event.type, Event.state_key, Event.sender,
                  Event.stream_ordering, Event.redacted_by)


@dataclass
class Hit:
    row: Match
    rank: float


@dataclass
class Token:
    order: str
    position: int          # rank: offset into the results; recent: continue below this
    group: tuple[str, str] | None = None

    def encode(self) -> str:
        data = {"o": self.order, "p": self.position}
        if self.group is not None:
            data["g"] = list(self.group)
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Token":
        try:
            data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            order, position, group = data["o"], data["p"], data.get("g")
            if order not in ("rank", "recent") or not isinstance(position, int) \
                    or isinstance(position, bool) or position < 0:
                raise ValueError
            if group is not None:
                if not (isinstance(group, list) and len(group) == 2
                        and group[0] in ("room_id", "sender") and isinstance(group[1], str)):
                    raise ValueError
                group = (group[0], group[1])
            return cls(order, position, group)
        except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
            raise errors.InvalidParam("Invalid 'next_batch' token") from None


def search(user_id: str, device_id: str | None, criteria: Criteria | None,
           next_batch: str | None) -> dict:
    if criteria is None:
        return {"search_categories": {}}
    token = Token.decode(next_batch) if next_batch else None
    if token is not None and token.order != criteria.order_by:
        raise errors.InvalidParam("The 'next_batch' token belongs to another ordering")
    limit = min(criteria.event_filter.limit_or(DEFAULT_LIMIT), MAX_LIMIT) or DEFAULT_LIMIT
    search_index.catch_up()
    with read_snapshot():
        return {"search_categories": {"room_events": _room_events(
            user_id, device_id, criteria, token, limit)}}


def _room_events(user_id: str, device_id: str | None, criteria: Criteria,
                 token: Token | None, limit: int) -> dict:
    term_words = search_index.words(criteria.search_term)
    body: dict = {"results": [], "count": 0, "highlights": term_words}
    rooms = _searchable_rooms(user_id, criteria.event_filter)
    if token is not None and token.group is not None and token.group[0] == "room_id":
        rooms = [room for room in rooms if room == token.group[1]]
    if not term_words or not rooms or not criteria.keys:
        return body
    searcher = _Searcher(user_id, rooms, criteria, term_words,
                         token.group if token else None)
    top = searcher.scan(below=None)
    body["count"] = len(top.hits)
    if criteria.order_by == "recent" and token is not None:
        window = searcher.scan(below=token.position)
        offset = 0
    else:
        window = top
        offset = token.position if token is not None else 0
    page = window.hits[offset:offset + limit]
    more_after = len(window.hits) > offset + limit or (window.truncated and bool(page))
    if more_after:
        body["next_batch"] = _continue(criteria, page, offset, token.group if token else None)

    full = {row.event_id: row for row in Event.select().where(
        Event.event_id.in_([hit.row.event_id for hit in page]))} if page else {}
    rows = [full[hit.row.event_id] for hit in page]
    histories = searcher.histories
    events = serialize_events(rows, user_id, device_id, histories=histories)
    bundle_aggregations(events, user_id, device_id, histories=histories)
    results = []
    for hit, event in zip(page, events):
        result = {"rank": hit.rank, "result": event}
        if criteria.event_context is not None:
            result["context"] = _context(user_id, device_id, hit.row, criteria.event_context,
                                         searcher)
        results.append(result)
    body["results"] = results
    if criteria.group_by:
        body["groups"] = _groups(criteria, window, page, offset)
    if criteria.include_state:
        body["state"] = _state(user_id, device_id, {row.room_id for row in rows}, histories)
    return body


def _continue(criteria: Criteria, page: list[Hit], offset: int,
              group: tuple[str, str] | None) -> str:
    if criteria.order_by == "recent":
        return Token("recent", page[-1].row.stream_ordering, group).encode()
    return Token("rank", offset + len(page), group).encode()


def _searchable_rooms(user_id: str, event_filter: EventFilter) -> list[str]:
    """Rooms the user has been in (any membership event of theirs), without encrypted ones."""
    rooms = {room for (room,) in Event.select(Event.room).where(
        (Event.type == MEMBER) & (Event.state_key == user_id)).distinct().tuples()}
    if not rooms:
        return []
    encrypted = {room for (room,) in CurrentState.select(CurrentState.room).where(
        CurrentState.room.in_(sorted(rooms)) & (CurrentState.type == "m.room.encryption")
        & (CurrentState.state_key == "")).tuples()}
    return sorted(room for room in rooms - encrypted if event_filter.allows_room(room))


@dataclass
class Scan:
    hits: list[Hit]
    truncated: bool   # SCAN_LIMIT rows were read: more matches may exist


class _Searcher:
    """Runs the match query and keeps what the user may see."""

    def __init__(self, user_id: str, rooms: list[str], criteria: Criteria,
                 term_words: list[str], group: tuple[str, str] | None):
        self.user_id = user_id
        self.rooms = rooms
        self.criteria = criteria
        self.term_words = term_words
        self.group = group
        self.ignored = ignored_users(user_id)
        self.histories: dict[str, RoomHistory] = {}

    def history(self, room_id: str) -> RoomHistory:
        if room_id not in self.histories:
            self.histories[room_id] = RoomHistory.load(room_id, self.user_id)
        return self.histories[room_id]

    def scan(self, below: int | None) -> Scan:
        matches = self._matches(below)
        truncated = len(matches) >= SCAN_LIMIT
        best: dict[str, float] = {}
        order: list[str] = []
        for event_id, rank in matches:
            if event_id not in best:
                order.append(event_id)
                best[event_id] = rank
            else:
                best[event_id] = max(best[event_id], rank)
        event_filter = self.criteria.event_filter
        rows: dict[str, Match] = {}
        contents: dict[str, dict] = {}
        for start in range(0, len(order), 500):
            chunk = order[start:start + 500]
            rows.update({values[0]: Match(*values) for values in Event.select(
                *_MATCH_COLUMNS).where(Event.event_id.in_(chunk)).tuples()})
            if event_filter.contains_url is not None:
                contents.update({event_id: json.loads(text).get("content") for event_id, text
                                 in Event.select(Event.event_id, Event.json).where(
                                     Event.event_id.in_(chunk)).tuples()})
        hits = []
        for event_id in order:
            row = rows.get(event_id)
            if row is None or row.redacted_by is not None:
                continue
            if row.sender in self.ignored:
                continue
            view = {"type": row.type, "sender": row.sender, "content": contents.get(event_id)}
            if not event_filter.matches(view):
                continue
            if not self.history(row.room_id).can_see(row):
                continue
            hits.append(Hit(row, float(best[event_id])))
        if self.criteria.order_by == "rank":
            hits.sort(key=lambda hit: (-hit.rank, -hit.row.stream_ordering))
        return Scan(hits, truncated)

    def _matches(self, below: int | None) -> list[tuple[str, float]]:
        db = database.obj
        p = db.param
        source, condition, rank, params = search_index.match_clause(self.term_words)
        where = [condition, f"s.room_id IN ({', '.join([p] * len(self.rooms))})",
                 f"s.key IN ({', '.join([p] * len(self.criteria.keys))})"]
        params = params + list(self.rooms) + list(self.criteria.keys)
        if below is not None:
            where.append(f"s.stream_ordering < {p}")
            params.append(below)
        if self.group is not None and self.group[0] == "sender":
            where.append(f"s.sender = {p}")
            params.append(self.group[1])
        order = ("rank DESC, s.stream_ordering DESC" if self.criteria.order_by == "rank"
                 else "s.stream_ordering DESC")
        sql = (f"SELECT s.event_id, {rank} AS rank FROM {source} "
               f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT {SCAN_LIMIT}")
        return [(event_id, rank) for event_id, rank in db.execute_sql(sql, params).fetchall()]


# --- groups, context, state ---------------------------------------------------------------------

def _groups(criteria: Criteria, window: Scan, page: list[Hit], offset: int) -> dict:
    """For each requested key, the results of this page per value (``order``: the order in
    which the groups first appear), with a token to continue inside a group that has more."""
    end = offset + len(page)
    groups: dict[str, dict] = {}
    for key in criteria.group_by:
        def value_of(hit: Hit, key=key) -> str:
            return hit.row.room_id if key == "room_id" else hit.row.sender

        by_value: dict[str, dict] = {}
        for hit in page:
            entry = by_value.setdefault(value_of(hit),
                                        {"results": [], "order": len(by_value) + 1})
            entry["results"].append(hit.row.event_id)
        later = {value_of(hit) for hit in window.hits[end:]}
        for value, entry in by_value.items():
            if value not in later and not window.truncated:
                continue
            if criteria.order_by == "recent":
                last = [hit for hit in page if value_of(hit) == value][-1]
                position = last.row.stream_ordering
            else:
                # The offset into this group's own results (a group's token searches it only).
                position = sum(1 for hit in window.hits[:end] if value_of(hit) == value)
            entry["next_batch"] = Token(criteria.order_by, position, (key, value)).encode()
        groups[key] = by_value
    return groups


def _context(user_id: str, device_id: str | None, row: Match, options: dict,
             searcher: _Searcher) -> dict:
    before_limit = min(options.get("before_limit", DEFAULT_CONTEXT), MAX_CONTEXT)
    after_limit = min(options.get("after_limit", DEFAULT_CONTEXT), MAX_CONTEXT)
    history = searcher.history(row.room_id)
    visible = timeline.visibility(history, searcher.ignored)
    current = streams.current_position()
    before = timeline.room_events(row.room_id, lower=None, upper=row.stream_ordering - 1,
                                  direction="b", limit=before_limit,
                                  event_filter=EventFilter(), visible=visible).rows \
        if before_limit > 0 else []
    after = timeline.room_events(row.room_id, lower=row.stream_ordering, upper=current,
                                 direction="f", limit=after_limit,
                                 event_filter=EventFilter(), visible=visible).rows \
        if after_limit > 0 else []
    first = before[-1].stream_ordering if before else row.stream_ordering
    last = after[-1].stream_ordering if after else row.stream_ordering
    histories = searcher.histories
    context = {
        "start": pagination_token(first - 1),
        "end": pagination_token(last),
        "events_before": serialize_events(before, user_id, device_id, histories=histories),
        "events_after": serialize_events(after, user_id, device_id, histories=histories),
    }
    if options.get("include_profile"):
        senders = {r.sender for r in [*before, row, *after]}
        members = timeline.members_at(row.room_id, row.stream_ordering, current, senders)
        profiles = {}
        for sender in sorted(senders):
            content = room_state.content_of(members.get(sender))
            profiles[sender] = {key: content[key] for key in ("displayname", "avatar_url")
                                if isinstance(content.get(key), str)}
        context["profile_info"] = profiles
    return context


def _state(user_id: str, device_id: str | None, room_ids: set[str],
           histories: dict[str, RoomHistory]) -> dict:
    """The state of each room with results: current state, or as of when the user left."""
    current = streams.current_position()
    state = {}
    for room_id in sorted(room_ids):
        try:
            position = histories[room_id].state_position()
        except errors.Forbidden:
            continue
        rows = room_state.state_at(room_id, position, now=current)
        ordered = sorted(rows.values(), key=lambda r: r.stream_ordering)
        state[room_id] = serialize_events(ordered, user_id, device_id, histories=histories)
    return state

