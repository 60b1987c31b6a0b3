"""One room of a sliding sync response (MSC4186 ``RoomResult``, the unstable endpoint's field
names), built from the same readers as /sync (``services/sync/reading.py``, ``summary.py``).

A room new to the connection (``initial``) gets its newest ``timeline_limit`` events, its
``required_state`` as of now (the current state, or the state at the user's leave), and every
field. A room sent before gets what happened since it was sent up to: the new events (at most
``timeline_limit``; ``limited`` when there were more), the changed state ``required_state``
selects (all of it again when the room's config changed), and the fields whose source changed
(name, avatar, heroes); counts and ``bump_stamp`` every time.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...models.rooms import CurrentState, Event
from ..event_types import AVATAR, MEMBER, NAME
from ..event_types import CANONICAL_ALIAS as ALIAS
from ..reading import timeline as reading
from ..reading.filters import EventFilter
from ..reading.stream_tokens import pagination_token
from ..rooms import state as room_state
from ..sync import summary
from .request import RoomConfig
from .room_list import Candidate

_NO_FILTER = EventFilter()


@dataclass
class Built:
    """A room's entry with its events still as rows (serialized for all rooms at once)."""
    entry: dict
    timeline: list[Event]
    state: list[Event]


def _text(row: Event | None, key: str) -> str | None:
    value = room_state.content_of(row).get(key) if row is not None else None
    return value if isinstance(value, str) and value else None


def hero_profiles(room_id: str, user_ids: list[str]) -> list[dict]:
    """``heroes``: each hero's user ID with the displayname and avatar of their member event."""
    if not user_ids:
        return []
    rows = {row.state_key: row for row in Event.select().join(
        CurrentState, on=(Event.event_id == CurrentState.event_id)).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & CurrentState.state_key.in_(user_ids))}
    return [_hero(user_id, rows.get(user_id)) for user_id in user_ids]


def _hero(user_id: str, member: Event | None) -> dict:
    hero = {"user_id": user_id}
    name, avatar = _text(member, "displayname"), _text(member, "avatar_url")
    if name:
        hero["displayname"] = name
    if avatar:
        hero["avatar_url"] = avatar
    return hero


class RoomEntries:
    """Builds the entries of one response; ``histories`` and ``unread`` are loaded by the
    caller for all the rooms at once."""

    def __init__(self, user_id: str, now: int, prev_stream: int | None, ignored: set[str],
                 histories: dict, unread: dict, facts):
        self.user_id = user_id
        self.now = now
        self.prev_stream = prev_stream
        self.ignored = ignored
        self.histories = histories
        self.unread = unread
        # ``list_filters.RoomFacts``: its ``dm_rooms`` (m.direct) is read once, if needed.
        self.facts = facts
        self.names: dict[str, dict] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.full_state: dict[str, dict] = {}
        self.pages: dict[str, reading.Page] = {}

    def _visible(self, room_id: str, joined: bool = True):
        return reading.visibility(self.histories[room_id], self.ignored,
                                  current_state_of=room_id if joined else None)

    def prefetch(self, rooms: list[str], full: dict[str, list[str] | None],
                 newest: dict[str, int]) -> None:
        """What every room needs, in a few queries for all of them: their name, avatar and
        alias, member counts, the current state of the joined rooms sent in full (``full``:
        room_id -> the types their required_state reads, None for all) and the newest events
        of the joined rooms whose timeline starts afresh (``newest``: room_id -> limit)."""
        if not rooms:
            return
        by_limit: dict[int, list[str]] = {}
        for room_id, limit in newest.items():
            by_limit.setdefault(limit, []).append(room_id)
        for limit, room_ids in by_limit.items():
            self.pages.update(reading.newest_pages(room_ids, self.now, limit, self._visible))
        self.names = reading.current_states(rooms, types=[NAME, AVATAR, ALIAS])
        self.counts = summary.member_counts(rooms)
        by_types: dict[tuple | None, list[str]] = {}
        for room_id, types in full.items():
            by_types.setdefault(None if types is None else tuple(types), []).append(room_id)
        for types, room_ids in by_types.items():
            self.full_state.update(reading.current_states(
                room_ids, types=None if types is None else list(types)))

    def invite(self, candidate: Candidate) -> Built:
        key = "invite_state" if candidate.kind == "invite" else "knock_state"
        stripped = room_state.stripped_state(candidate.room_id,
                                             extra=((MEMBER, self.user_id),))
        entry = {"bump_stamp": candidate.bump_stamp, "initial": True, key: stripped}
        by_type = {event["type"]: event for event in stripped if event["state_key"] == ""}
        for event_type, field, content_key in ((NAME, "name", "name"),
                                               (AVATAR, "avatar", "url")):
            value = by_type.get(event_type, {}).get("content", {}).get(content_key)
            if isinstance(value, str) and value:
                entry[field] = value
        if candidate.room_id in self.facts.dm_rooms:
            entry["is_dm"] = True
        return Built(entry, [], [])

    def room(self, candidate: Candidate, config: RoomConfig, lower: int | None,
             config_changed: bool, force: bool, expand: bool = False) -> Built | None:
        """A joined room, or one the user left or was banned from (seen up to that point).
        ``lower``: what the connection has (None: nothing). None when nothing changed (and
        ``force`` is unset). ``expand``: the timeline_limit grew since the room was sent, so
        its newest events are sent again up to the new limit (MSC4186 "Changes to
        timeline_limit"; ``unstable_expanded_timeline`` as Synapse names it)."""
        room_id = candidate.room_id
        joined = candidate.kind == "join"
        upper = self.now if joined else candidate.membership.position
        page = self.pages.get(room_id) if (lower is None or expand) and joined else None
        if page is None:
            page = reading.room_events(room_id, lower=None if expand else lower, upper=upper,
                                       direction="b", limit=config.timeline_limit,
                                       event_filter=_NO_FILTER,
                                       visible=self._visible(room_id, joined))
        rows = list(reversed(page.rows))
        initial = lower is None
        full = initial or config_changed
        changes = {} if initial else room_state.state_changes(room_id, lower, upper)
        if not (initial or rows or page.more or changes or config_changed or force):
            return None
        wanted = config.required_state
        if full and not wanted.is_empty:
            types = wanted.types()
            if joined and room_id in self.full_state:
                source = self.full_state[room_id]
            elif joined:
                source = room_state.current_state(room_id, types=types)
            else:
                source = room_state.state_at(room_id, upper, now=self.now, types=types)
        else:
            source = changes
        state = {key: row for key, row in source.items() if wanted.matches(*key)}
        if wanted.lazy_members:
            self._lazy_members(room_id, state, rows, changes, upper, limited=page.more)
        entry = {"bump_stamp": candidate.bump_stamp, "limited": page.more,
                 "prev_batch": pagination_token(reading.page_start(page, rows, upper))}
        if initial:
            entry["initial"] = True
        elif expand and rows:
            entry["unstable_expanded_timeline"] = True
        live = [row for row in rows
                if self.prev_stream is not None and row.stream_ordering > self.prev_stream]
        entry["num_live"] = len(live)
        if joined:
            self._fields(entry, candidate, changes, full=initial)
        else:
            self._fields_at_leave(entry, room_id, upper)
        if room_id in self.facts.dm_rooms:
            entry["is_dm"] = True
        # Complete even where the timeline holds the same events (as Synapse): the client
        # takes required_state as the room's current state.
        state_rows = sorted(state.values(), key=lambda row: row.stream_ordering)
        return Built(entry, rows, state_rows)

    def _lazy_members(self, room_id: str, state: dict, rows: list[Event], changes: dict,
                      upper: int, *, limited: bool) -> None:
        """The member events of the timeline's senders and targets; on a sync without a gap,
        every membership change since the room was last sent too (MSC4186 lazy_members)."""
        users = {row.sender for row in rows}
        users |= {row.state_key for row in rows if row.type == MEMBER}
        users -= {key for event_type, key in state if event_type == MEMBER}
        for user_id, row in reading.members_at(room_id, upper, self.now, users).items():
            state[(MEMBER, user_id)] = row
        if not limited:
            state.update({key: row for key, row in changes.items() if key[0] == MEMBER})

    def _fields_at_leave(self, entry: dict, room_id: str, upper: int) -> None:
        """A room the user left or was banned from: its fields as they were then, nothing
        later (the user may no longer see the room)."""
        state = room_state.state_at(room_id, upper, now=self.now,
                                    types=[NAME, AVATAR, ALIAS, MEMBER])
        name, avatar = _text(state.get((NAME, "")), "name"), _text(state.get((AVATAR, "")),
                                                                    "url")
        if name:
            entry["name"] = name
        if avatar:
            entry["avatar"] = avatar
        room_summary = summary.summary_from_state(state, self.user_id)
        entry["joined_count"] = room_summary["m.joined_member_count"]
        entry["invited_count"] = room_summary["m.invited_member_count"]
        hero_ids = room_summary.get("m.heroes") or []
        if hero_ids:
            entry["heroes"] = [_hero(user_id, state.get((MEMBER, user_id)))
                               for user_id in hero_ids]

    def _fields(self, entry: dict, candidate: Candidate, changes: dict, *, full: bool) -> None:
        room_id = candidate.room_id
        changed_types = {event_type for event_type, _ in changes}
        names = self.names.get(room_id)
        if names is None:
            names = room_state.current_state(room_id, types=[NAME, AVATAR, ALIAS],
                                             state_keys=[""])
        if full or changed_types & {NAME, AVATAR}:
            name, avatar = _text(names.get((NAME, "")), "name"), _text(names.get((AVATAR, "")),
                                                                        "url")
            if name:
                entry["name"] = name
            if avatar:
                entry["avatar"] = avatar
        counts = self.counts.get(room_id)
        if counts is None:
            counts = summary.member_counts([room_id])[room_id]
        entry["joined_count"] = counts.get("join", 0)
        entry["invited_count"] = counts.get("invite", 0)
        if (full or changed_types & summary.SUMMARY_TYPES) \
                and not summary.has_name_or_alias(names):
            heroes = hero_profiles(room_id, summary.heroes(room_id, self.user_id))
            if heroes:
                entry["heroes"] = heroes
        if candidate.kind == "join":
            counts, _ = self.unread.get(room_id, ({}, {}))
            entry["notification_count"] = counts.get("notification_count", 0)
            entry["highlight_count"] = counts.get("highlight_count", 0)
