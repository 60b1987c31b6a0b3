"""The ``lists`` and ``rooms`` of a sliding sync response: which rooms match the request's
lists and subscriptions, which of them have something new for the connection, and their
entries (``room_entry.py``).

Finding what changed costs what changed, not the number of rooms: rooms the connection holds
as of its previous response are checked with one scan of the stream since then
(``reading.rooms_with_events``); only rooms that come (back) into range are probed one by one.
At most ``max_rooms_per_response`` rooms are built per response (subscriptions first, then the
lists in order of activity); the rest keep their place and follow in the next responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peewee import fn

from ...models.ephemeral import Receipt
from ...models.rooms import Event
from ..push import notifications
from ..reading import timeline as reading
from ..reading.filters import Filter
from . import connections, list_filters, room_list
from .connections import Connection, Sent
from .request import Request, RoomConfig
from .room_entry import Built, RoomEntries
from .room_list import Candidate

RANGE_SCAN_LIMIT = 2000
# The config recorded for an invite or knock: the client holds stripped state only.
STRIPPED = "stripped"


@dataclass
class RoomsResult:
    lists: dict[str, dict] = field(default_factory=dict)
    rooms: dict[str, dict] = field(default_factory=dict)
    sent: dict[str, Sent] = field(default_factory=dict)
    up_to_date: list[str] = field(default_factory=list)
    # Rooms of each list's ranges and the subscriptions the user may see (extensions' scope).
    list_rooms: dict[str, list[str]] = field(default_factory=dict)
    subscribed: list[str] = field(default_factory=list)
    initial: set[str] = field(default_factory=set)
    timeline_ids: dict[str, set[str]] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)


def _timeline_limit(config_key: str) -> int:
    """The timeline_limit of a recorded config (``RoomConfig.key``)."""
    limit, _, _ = config_key.partition(":")
    return int(limit) if limit.isdigit() else 0


def _has_events(room_id: str, lower: int, upper: int) -> bool:
    return Event.select().where((Event.room == room_id) & (Event.stream_ordering > lower)
                                & (Event.stream_ordering <= upper)).exists()


def _receipt_rooms(user_id: str, since: int, now: int) -> set[str]:
    """Rooms where the user's own receipts moved (their unread counts changed)."""
    return {room_id for (room_id,) in Receipt.select(fn.DISTINCT(Receipt.room_id))
            .where((Receipt.user_id == user_id) & (Receipt.stream_id > since)
                   & (Receipt.stream_id <= now)).tuples()}


class RoomsBuilder:
    def __init__(self, request: Request, connection: Connection, user_id: str, now: int,
                 memberships, ignored: set[str], max_rooms: int):
        self.request = request
        self.connection = connection
        self.user_id = user_id
        self.now = now
        self.prev = connection.stream_position
        self.ignored = ignored
        self.max_rooms = max_rooms
        self.memberships = memberships
        self.result = RoomsResult()

    def run(self) -> RoomsResult:
        result = self.result
        candidates = room_list.candidates(self.user_id, self.memberships, self.prev,
                                          self.ignored)
        result.joined = {r for r, c in candidates.items() if c.kind == "join"}
        facts = list_filters.RoomFacts(self.user_id, list(candidates))
        ordered = room_list.ordered(list(candidates.values()))
        configs: dict[str, RoomConfig] = {}
        order: list[Candidate] = []
        for room_id, config in self.request.subscriptions.items():
            candidate = candidates.get(room_id) or self._subscribable(room_id)
            if candidate is None:
                continue  # no permission, or no such room: ignored (MSC4186)
            result.subscribed.append(room_id)
            configs[room_id] = config
            order.append(candidate)
        for spec in self.request.lists:
            matching = list_filters.apply(spec.filters, ordered, facts, result.joined)
            result.lists[spec.name] = {"count": len(matching)}
            picked = room_list.in_ranges(matching, spec.ranges)
            result.list_rooms[spec.name] = [c.room_id for c in picked]
            for candidate in picked:
                room_id = candidate.room_id
                configs[room_id] = (configs[room_id].union(spec.config)
                                    if room_id in configs else spec.config)
            order.extend(picked)
        seen = set()
        order = [c for c in order if not (c.room_id in seen or seen.add(c.room_id))]
        self._build(order, configs, facts)
        return result

    def _subscribable(self, room_id: str) -> Candidate | None:
        """A subscribed room outside the list (a left room the user did not forget...)."""
        membership = self.memberships.get(room_id)
        if membership is None or membership.membership not in ("leave", "ban"):
            return None
        return Candidate(room_id, membership, membership.position)

    def _changed(self, order: list[Candidate], sent: dict[str, Sent]) -> set[str]:
        """Rooms with events the connection has not seen (a superset for the batch scan)."""
        prev = self.prev
        scan, changed = [], set()
        for candidate in order:
            item = sent.get(candidate.room_id)
            if item is None or candidate.kind not in ("join", "leave", "ban"):
                continue
            upper = self.now if candidate.kind == "join" else candidate.membership.position
            if item.sent_upto >= upper:
                continue
            if prev is not None and item.sent_upto >= prev and candidate.kind == "join":
                scan.append(candidate.room_id)
            elif _has_events(candidate.room_id, item.sent_upto, upper):
                changed.add(candidate.room_id)
        if scan:
            changed |= reading.rooms_with_events(scan, prev, self.now, RANGE_SCAN_LIMIT)
        return changed

    def _build(self, order: list[Candidate], configs: dict[str, RoomConfig],
               facts: list_filters.RoomFacts) -> None:
        result = self.result
        sent = connections.sent_rooms(self.connection, [c.room_id for c in order])
        changed = self._changed(order, sent)
        receipts = (_receipt_rooms(self.user_id, self.prev, self.now)
                    if self.prev is not None else set())
        todo: list[tuple[Candidate, Sent | None, bool]] = []
        for candidate in order:
            room_id, item = candidate.room_id, sent.get(candidate.room_id)
            if item is not None and item.config == STRIPPED and candidate.kind not in (
                    "invite", "knock"):
                item = None  # the client saw the invite's stripped state only: send it all
            config_changed = item is not None and item.config != configs[room_id].key()
            if candidate.kind in ("invite", "knock"):
                if item is None or item.sent_upto < candidate.membership.position:
                    todo.append((candidate, None, False))
            elif (item is None or config_changed or room_id in changed
                  or (room_id in receipts and candidate.kind == "join")):
                todo.append((candidate, item, config_changed))
            elif candidate.kind == "join":
                result.up_to_date.append(room_id)
        todo = todo[:self.max_rooms]
        if not todo:
            return  # a long-poll woken by nothing of these rooms: no reads
        rooms = [c.room_id for c, _, _ in todo if c.kind not in ("invite", "knock")]
        entries = RoomEntries(
            self.user_id, self.now, self.prev, self.ignored,
            histories=reading.histories(rooms, self.user_id),
            unread=notifications.unread_counts_many(
                self.user_id, [r for r in rooms if r in result.joined], upto=self.now),
            facts=facts)
        entries.prefetch(rooms, {
            c.room_id: configs[c.room_id].required_state.types() for c, item, changed in todo
            if c.kind == "join" and (item is None or changed)
            and not configs[c.room_id].required_state.is_empty}, {
            c.room_id: configs[c.room_id].timeline_limit for c, item, changed in todo
            if c.kind == "join" and (item is None or (
                changed and _timeline_limit(item.config) < configs[c.room_id].timeline_limit))})
        built: dict[str, Built] = {}
        for candidate, item, config_changed in todo:
            room_id = candidate.room_id
            config = configs[room_id]
            if candidate.kind in ("invite", "knock"):
                done = entries.invite(candidate)
                upto, config = candidate.membership.position, None
            else:
                expand = config_changed and _timeline_limit(item.config) < config.timeline_limit
                done = entries.room(candidate, config,
                                    None if item is None else item.sent_upto, config_changed,
                                    force=room_id in receipts, expand=expand)
                upto = self.now if candidate.kind == "join" else candidate.membership.position
            if done is None:
                if candidate.kind == "join":
                    result.up_to_date.append(room_id)
                continue
            built[room_id] = done
            result.sent[room_id] = Sent(upto, STRIPPED if config is None else config.key())
            if "initial" in done.entry:
                result.initial.add(room_id)
            result.timeline_ids[room_id] = {row.event_id for row in done.timeline}
        self._render(built, entries.histories)

    def _render(self, built: dict[str, Built], histories: dict) -> None:
        """Serialize every room's events in two calls (the serializer batches its lookups)."""
        user_id, device_id = self.user_id, self.connection.device_id
        no_filter = Filter()
        timelines = iter(reading.to_client([row for b in built.values() for row in b.timeline],
                                           user_id, device_id, no_filter, histories=histories))
        states = iter(reading.to_client([row for b in built.values() for row in b.state],
                                        user_id, device_id, no_filter, bundle=False,
                                        histories=histories))
        for room_id, done in built.items():
            entry = done.entry
            # Always present, empty for invites: matrix-js-sdk maps both lists unchecked.
            entry["timeline"] = [next(timelines) for _ in done.timeline]
            entry["required_state"] = [next(states) for _ in done.state]
            self.result.rooms[room_id] = entry
