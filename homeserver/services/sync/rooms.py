"""The rooms of /sync: ``rooms.join`` (timeline, state, summary), ``rooms.invite``,
``rooms.knock`` and ``rooms.leave``.

Per joined room the timeline is the newest ``limit`` events of (lower, now] (lower = since, or
the start of history for a room new to the client), and ``state`` brings the client's state up
to the start of the timeline: the whole state there for a room new to the client (initial sync,
full_state, joined since the last sync), else the keys changed between ``since`` and the start
of the timeline (non-empty only when the timeline is limited). Lazy-loading keeps only the
members the timeline's senders need, minus those this device already has.

A room joined since the last sync always has ``limited: true`` (as in Synapse): the client
drops whatever timeline it kept from an earlier stay and starts from this one. An incremental
sync lists a joined room only when it has something for the client after the filters (events,
state, a gap, a summary), never as an empty entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...models.rooms import Event
from ..event_types import MEMBER
from ..reading import timeline as reading
from ..reading.filters import DEFAULT_TIMELINE_LIMIT, EventFilter
from ..reading.pager import Page
from ..reading.stream_tokens import pagination_token
from ..rooms import state as room_state
from ..userdata.account_data import ignored_users
from . import lazy_members, summary
from .context import SyncContext
from .response import SyncResponse

# Below this many positions since the last sync, finding the active rooms scans the range
# itself; above it, each joined room is probed by its index.
RANGE_SCAN_LIMIT = 2000


@dataclass
class _Timeline:
    rows: list[Event]       # oldest first
    page: Page
    start: int              # the position just before the first event (prev_batch)


def build(ctx: SyncContext, response: SyncResponse) -> None:
    if ctx.nothing_new:
        return
    builder = _RoomsBuilder(ctx, response)
    builder.run()


class _RoomsBuilder:
    def __init__(self, ctx: SyncContext, response: SyncResponse):
        self.ctx = ctx
        self.response = response
        self.room_filter = ctx.filter.room
        self.timeline_filter: EventFilter = self.room_filter.timeline
        self.state_filter: EventFilter = self.room_filter.state
        self.limit = self.timeline_filter.limit_or(DEFAULT_TIMELINE_LIMIT)
        self.lazy = self.state_filter.lazy_load_members
        self.ignored = ignored_users(ctx.user_id)
        # room_id -> {member: event_id} this device already has (loaded per room when needed).
        self.sent_members: dict[str, dict[str, str]] = {}
        self.new_members: dict[str, dict[str, str]] = {}
        self.histories: dict = {}
        self._forgotten: set[str] | None = None
        # (room entry, timeline rows, state rows): serialized together at the end.
        self._pending: list[tuple[dict, list[Event], list[Event]]] = []
        # Rooms joined since the last sync: their timeline is sent as limited.
        self._rejoined = set() if ctx.is_initial else ctx.joined_since_room_ids

    def run(self) -> None:
        ctx = self.ctx
        if ctx.is_initial or ctx.full_state:
            self._everything()
        else:
            self._changes()
        self._render()
        if self.lazy:
            self._record_members()

    def _known_members(self, room_id: str) -> dict[str, str]:
        """The members' events this device already has in the room (lazy-loading)."""
        if self.state_filter.include_redundant_members:
            return {}
        if room_id not in self.sent_members:
            ctx = self.ctx
            self.sent_members[room_id] = lazy_members.already_sent(
                ctx.user_id, ctx.device_id, ctx.since, [room_id]).get(room_id, {})
        return self.sent_members[room_id]

    def _wanted(self, room_id: str) -> bool:
        return self.room_filter.allows_room(room_id)

    def _forgot(self, room_id: str) -> bool:
        """A left room the user forgot is never shown again (until they come back)."""
        if self._forgotten is None:
            self._forgotten = room_state.forgotten_rooms(self.ctx.user_id)
        return room_id in self._forgotten

    def _history(self, room_id: str):
        if room_id not in self.histories:
            self.histories[room_id] = reading.history(room_id, self.ctx.user_id)
        return self.histories[room_id]

    # --- which rooms ------------------------------------------------------------------------

    def _everything(self) -> None:
        ctx = self.ctx
        joined: list[tuple[str, int | None]] = []
        for room_id, membership in sorted(ctx.memberships.items()):
            if not self._wanted(room_id):
                continue
            kind = membership.membership
            if kind == "join":
                fresh = ctx.is_initial or room_id in ctx.joined_since_room_ids
                joined.append((room_id, None if fresh else ctx.since))
            elif kind == "invite":
                self._invited(room_id, membership)
            elif kind == "knock":
                self._knocked(room_id, membership)
            elif kind in ("leave", "ban"):
                if self._forgot(room_id):
                    continue
                if room_id in ctx.newly_left_room_ids:
                    self._newly_left(room_id, membership.position)
                elif self.room_filter.include_leave:
                    self._left(room_id, membership.position, lower=None, full=True)
        self._joined_in_full(joined)

    def _changes(self) -> None:
        ctx = self.ctx
        for room_id in sorted(ctx.membership_changes):
            if not self._wanted(room_id):
                continue
            membership = ctx.memberships.get(room_id)
            kind = membership.membership if membership else None
            if kind == "join":
                if room_id in ctx.joined_since_room_ids:
                    self._joined(room_id, lower=None, full=True)
                else:
                    self._joined(room_id, lower=ctx.since, full=False)
            elif kind == "invite":
                self._invited(room_id, membership)
            elif kind == "knock":
                self._knocked(room_id, membership)
            elif kind in ("leave", "ban") and not self._forgot(room_id):
                self._newly_left(room_id, membership.position)
        steady = [room_id for room_id in ctx.joined_room_ids
                  if room_id not in ctx.membership_changes and self._wanted(room_id)]
        active = reading.rooms_with_events(steady, ctx.since, ctx.now, RANGE_SCAN_LIMIT)
        for room_id in sorted(active):
            self._joined(room_id, lower=ctx.since, full=False, always_joined=True)

    # --- joined and left rooms ----------------------------------------------------------------

    def _joined_in_full(self, rooms: list[tuple[str, int | None]]) -> None:
        """Joined rooms sent with their whole state (initial and full-state syncs), loaded
        together: a few queries for all of them. Timelines from the start of the room's
        history without an event filter come in one statement per 50 rooms
        (``reading.newest_pages``: one round trip per room was most of a PostgreSQL initial
        sync); the others, and rooms whose newest rows were not enough, one query each."""
        if not rooms:
            return
        ctx = self.ctx
        room_ids = [room_id for room_id, _ in rooms]
        missing = [room_id for room_id in room_ids if room_id not in self.histories]
        self.histories.update(reading.histories(missing, ctx.user_id))
        pages = {}
        if self.timeline_filter.is_trivial:
            pages = reading.newest_pages([room_id for room_id, lower in rooms if lower is None],
                                         ctx.now, self.limit, self._visible_of)
        timelines = {room_id: self._timeline_of(pages[room_id], ctx.now) if room_id in pages
                     else self._timeline(room_id, lower=lower, upper=ctx.now,
                                         always_joined=False)
                     for room_id, lower in rooms}
        if self.lazy:
            # Only the members ``_select_state`` keeps (the senders', the user's own); the
            # summary's counts and heroes come without loading every member's event.
            currents = reading.current_states(room_ids, members={
                room_id: self._needed_members(timelines[room_id].rows) for room_id in room_ids})
            summaries = summary.summaries_without_members(currents, ctx.user_id)
        else:
            currents = reading.current_states(room_ids)
            summaries = {room_id: summary.summary_from_state(currents[room_id], ctx.user_id)
                         for room_id in room_ids}
        positions = {room_id: ctx.now if ctx.use_state_after else timelines[room_id].start
                     for room_id in room_ids}
        states = reading.states_at(positions, currents, ctx.now)
        for room_id in room_ids:
            self._joined_entry(room_id, timelines[room_id], states[room_id], full=True,
                               room_summary=summaries[room_id], changed_types=set())

    def _joined(self, room_id: str, *, lower: int | None, full: bool,
                always_joined: bool = False) -> None:
        timeline = self._timeline(room_id, lower=lower, upper=self.ctx.now,
                                  always_joined=always_joined)
        entry = self._room_state(room_id, timeline, lower=lower, upper=self.ctx.now, full=full)
        if entry is None:
            return
        state, changed_types, current = entry
        room_summary = (summary.summary_from_state(current, self.ctx.user_id)
                        if full and current is not None else None)
        self._joined_entry(room_id, timeline, state, full=full, room_summary=room_summary,
                           changed_types=changed_types, lower=lower)

    def _joined_entry(self, room_id: str, timeline: _Timeline, state: dict, *, full: bool,
                      room_summary: dict | None, changed_types: set[str],
                      lower: int | None = None) -> None:
        """``room_summary``: already computed from the current state (full syncs), else None."""
        at = self.ctx.now if self.ctx.use_state_after else timeline.start
        state = self._select_state(room_id, state, timeline.rows, full=full, at=at)
        if not full and not state and not timeline.rows and not timeline.page.more:
            summary_types = changed_types & summary.SUMMARY_TYPES
            if summary_types == {MEMBER} and lower is not None \
                    and not self._memberships_changed(room_id, lower):
                summary_types = set()  # a profile change: the summary is the same
            if not summary_types:
                return  # what changed is all filtered out: nothing new for this client
        if room_summary is None and (full or changed_types & summary.SUMMARY_TYPES):
            room_summary = summary.room_summary(room_id, self.ctx.user_id)
        if self.lazy and room_summary and room_summary.get("m.heroes"):
            self._add_lazy_members(room_id, state, set(room_summary["m.heroes"]), at)
        out = self.response.room("join", room_id)
        if room_summary is not None:
            out["summary"] = room_summary
        self._finish(room_id, out, timeline, state)

    def _memberships_changed(self, room_id: str, lower: int) -> bool:
        """Whether a member event since ``lower`` changed someone's membership (not only a
        displayname or avatar, which leaves the room summary as it was)."""
        after = room_state.state_changes(room_id, lower, self.ctx.now, types=[MEMBER])
        if not after:
            return False
        before = room_state.state_at(room_id, lower, now=self.ctx.now, types=[MEMBER],
                                     state_keys=sorted(key for _, key in after))
        return any(before.get(key) is None or before[key].membership != row.membership
                   for key, row in after.items())

    def _newly_left(self, room_id: str, left_at: int) -> None:
        """A room left since ``since``: always listed, so the client moves it out of its joined
        rooms or invites. Its state is a delta if the client had the room, else the whole state
        if the user was in it since, else none (a rejected invite or knock shows no state)."""
        ctx = self.ctx
        before = ctx.memberships_at_since.get(room_id)
        was_joined = before is not None and before.membership == "join"
        joined_between = any(change.membership == "join"
                             for change in ctx.membership_changes.get(room_id, ()))
        self._left(room_id, left_at, lower=ctx.since, full=not was_joined,
                   with_state=was_joined or joined_between, always=True)

    def _left(self, room_id: str, left_at: int, *, lower: int | None, full: bool,
              with_state: bool = True, always: bool = False) -> None:
        timeline = self._timeline(room_id, lower=lower, upper=left_at, always_joined=False,
                                  joined=False)
        entry = self._room_state(room_id, timeline, lower=lower, upper=left_at, full=full,
                                 with_state=with_state, always=always)
        if entry is None:
            return
        state, _, _ = entry
        at = left_at if self.ctx.use_state_after else timeline.start
        state = self._select_state(room_id, state, timeline.rows, full=full, at=at)
        self._finish(room_id, self.response.room("leave", room_id), timeline, state)

    def _finish(self, room_id: str, out: dict, timeline: _Timeline, state: dict) -> None:
        ctx = self.ctx
        rows = timeline.rows
        state_rows = sorted(state.values(), key=lambda row: row.stream_ordering)
        if self.lazy:
            sent = self.new_members.setdefault(room_id, {})
            # In the order the client applies them: the last one is what it keeps.
            ordered = rows + state_rows if ctx.use_state_after else state_rows + rows
            for row in ordered:
                if row.type == MEMBER:
                    sent[row.state_key] = row.event_id
        limited = timeline.page.more or room_id in self._rejoined
        out["timeline"] = {"limited": limited, "prev_batch": pagination_token(timeline.start)}
        self._pending.append((out, rows, state_rows))

    def _render(self) -> None:
        """Serialize every room's events in two calls (the serializer batches its lookups)."""
        ctx = self.ctx
        timeline_rows = [row for _, rows, _ in self._pending for row in rows]
        state_rows = [row for _, _, rows in self._pending for row in rows]
        timelines = iter(reading.to_client(timeline_rows, ctx.user_id, ctx.device_id,
                                           ctx.filter, histories=self.histories))
        states = iter(reading.to_client(state_rows, ctx.user_id, ctx.device_id, ctx.filter,
                                        bundle=False, histories=self.histories))
        key = "state_after" if ctx.use_state_after else "state"
        for out, rows, room_state_rows in self._pending:
            out["timeline"]["events"] = [next(timelines) for _ in rows]
            out[key] = {"events": [next(states) for _ in room_state_rows]}
        self._pending.clear()

    def _timeline(self, room_id: str, *, lower: int | None, upper: int,
                  always_joined: bool, joined: bool = True) -> _Timeline:
        """The newest ``limit`` events of (lower, upper] the user may see."""
        visible = self._visible_of(room_id, always_joined=always_joined, joined=joined)
        page = reading.room_events(room_id, lower=lower, upper=upper, direction="b",
                                   limit=self.limit, event_filter=self.timeline_filter,
                                   visible=visible)
        return self._timeline_of(page, upper)

    @staticmethod
    def _timeline_of(page: Page, upper: int) -> _Timeline:
        rows = list(reversed(page.rows))
        return _Timeline(rows, page, reading.page_start(page, rows, upper))

    def _visible_of(self, room_id: str, *, always_joined: bool = False, joined: bool = True):
        """``visible(rows) -> rows``: the rows of the room's timeline the user may see."""
        return reading.visibility(self._history(room_id), self.ignored,
                                  all_visible=always_joined,
                                  current_state_of=room_id if joined else None)

    def _room_state(self, room_id: str, timeline: _Timeline, *, lower: int | None, upper: int,
                    full: bool, with_state: bool = True, always: bool = False):
        """(state {key: row}, types of state changed, current state or None) for one room, or
        None when an incremental sync has nothing to say about it."""
        ctx = self.ctx
        rows, start = timeline.rows, timeline.start
        changed_types: set[str] = set()
        # The state is given at the start of the timeline, or (use_state_after) at its end.
        at = upper if ctx.use_state_after else start
        current = None
        if not with_state:
            state = {}
        elif full:
            # The whole current state: the start of the state at ``at``, and the summary.
            current = room_state.current_state(room_id)
            state = reading.states_at({room_id: at}, {room_id: current}, ctx.now)[room_id]
        elif ctx.use_state_after:
            state = room_state.state_changes(room_id, lower, upper)
            changed_types = {event_type for event_type, _ in state}
        else:
            state = room_state.state_changes(room_id, lower, start)
            changed_types = {event_type for event_type, _ in state}
            later = room_state.state_changes(room_id, start, upper)
            changed_types |= {event_type for event_type, _ in later}
            # State changed inside the timeline's range but not shown in it (filtered out):
            # the client still needs the newest value.
            shown_keys = {(row.type, row.state_key) for row in rows if row.state_key is not None}
            for key, row in later.items():
                if key not in shown_keys:
                    state[key] = row
        if not full and not always and not rows and not state and not timeline.page.more:
            return None
        return state, changed_types, current

    def _select_state(self, room_id: str, state: dict, rows: list[Event], *, full: bool,
                      at: int) -> dict:
        """The state filter, and lazy-loading of members."""
        members = {key: row for key, row in state.items()
                   if key[0] == MEMBER and self._state_allowed(row)}
        state = {key: row for key, row in state.items()
                 if key[0] != MEMBER and self._state_allowed(row)}
        if not self.lazy:
            state.update(members)
        elif full:
            # The whole state at the start is at hand: keep the senders' members and the
            # user's own (the spec requires it on joins and full state).
            needed = self._needed_members(rows)
            state.update({key: row for key, row in members.items() if key[1] in needed})
        else:
            # Members changed in the gap are always sent; the senders' otherwise unless this
            # device has them already.
            state.update(members)
            self._add_lazy_members(room_id, state, {row.sender for row in rows}, at)
        return state

    def _needed_members(self, rows: list[Event]) -> set[str]:
        """The members a lazy-loading full state keeps: the timeline's senders, the user."""
        return {row.sender for row in rows} | {self.ctx.user_id}

    def _state_allowed(self, row: Event) -> bool:
        return self.state_filter.matches({"type": row.type, "sender": row.sender,
                                          "content": reading.content_of(row)
                                          if self.state_filter.contains_url is not None
                                          else None})

    def _add_lazy_members(self, room_id: str, state: dict, users: set[str],
                          position: int) -> None:
        """Add the member events of ``users`` at ``position`` to ``state``, except those this
        device already has."""
        users = {user for user in users if (MEMBER, user) not in state}
        if not users:
            return
        found = reading.members_at(room_id, position, self.ctx.now, users)
        known = self._known_members(room_id)
        for user, row in found.items():
            if known.get(user) != row.event_id and self._state_allowed(row):
                state[(MEMBER, user)] = row

    # --- invites and knocks -------------------------------------------------------------------

    def _stripped(self, room_id: str, inviter: str | None = None) -> list[dict]:
        """The room's stripped state, with the user's own invite or knock event and, for an
        invite, the inviter's membership (the spec allows more events; Synapse sends it)."""
        extra = ((MEMBER, self.ctx.user_id),) + (((MEMBER, inviter),) if inviter else ())
        return room_state.stripped_state(room_id, extra=extra)

    def _invited(self, room_id: str, membership) -> None:
        invite = Event.get_or_none(Event.event_id == membership.event_id)
        if invite is not None and invite.sender in self.ignored:
            return
        out = self.response.room("invite", room_id)
        out["invite_state"] = {"events": self._stripped(
            room_id, invite.sender if invite is not None else None)}

    def _knocked(self, room_id: str, membership) -> None:
        out = self.response.room("knock", room_id)
        out["knock_state"] = {"events": self._stripped(room_id)}

    # --- lazy-loading bookkeeping -------------------------------------------------------------

    def _record_members(self) -> None:
        ctx = self.ctx
        sent = {room: members for room, members in self.new_members.items() if members}
        sent = {room: {m: e for m, e in members.items()
                       if self._known_members(room).get(m) != e}
                for room, members in sent.items()}
        sent = {room: members for room, members in sent.items() if members}
        if sent or lazy_members.has_unconfirmed(ctx.user_id, ctx.device_id, ctx.since):
            self.response.defer(lambda: lazy_members.record(
                ctx.user_id, ctx.device_id, ctx.since, ctx.now, sent))
