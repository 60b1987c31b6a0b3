"""GET /events: the user's event stream (getEvents, old_sync.yaml) and, with ``room_id``, one
room's (peekEvents, peeking_events.yaml, module "Room Previews").

An answer holds what happened in (from, end]: the room events in stream order, at most
``limit`` (default 10, at most ``MAX_LIMIT``; ``end`` stops after the last one when more
remain), and everything else with a position up to ``end`` (typing, receipts, account data,
presence), read by the /sync providers and flattened into the v1 list (``v1_format``).

Whose events: without ``room_id``, the rooms the user is joined to (history visibility
applies, as in /sync) and, of the rooms their membership changed in otherwise (invited, left,
banned), only their own membership events. With ``room_id``: that room, for a joined member
or anyone while it is world_readable (403 otherwise), its typing, receipts and the presence
of its members too. A guest may only peek (spec, Guest Access: "GET /events as used for room
previews"): without ``room_id``, 400 M_MISSING_PARAM, as Synapse's 400.

With nothing to send, the request waits up to ``timeout`` ms (default 30000, at most
``long_polls.MAX_TIMEOUT_MS``) through the notifier, in a long-poll slot of its own per device
that counts against the user's cap (``streams/long_polls``), as /sync does. A user calling
it counts as syncing for presence (online), as in Synapse.
"""

from __future__ import annotations

from ... import errors
from ...models.rooms import Event
from ..ephemeral import presence
from ..event_types import MEMBER
from ..reading import pager
from ..reading import timeline as reading
from ..reading.filters import Filter
from ..reading.snapshot import read_snapshot
from ..reading.stream_tokens import parse_pagination_token, sync_token
from ..reading.visibility import JOINED, RoomHistory, require_can_read_room, without_ignored
from ..streams import positions as streams
from ..streams.long_polls import DEFAULT_LONG_POLLS, MAX_TIMEOUT_MS
from ..streams.long_polls import registry as long_polls
from ..sync import account_data as account_data_provider
from ..sync import ephemeral as ephemeral_provider
from ..sync import presence as presence_provider
from ..sync.context import SyncContext
from ..sync.response import SyncResponse
from ..sync.service import SyncRequest, wait_for_news
from ..userdata.account_data import ignored_users
from ..reading import v1_format

DEFAULT_LIMIT = 10       # Synapse's
MAX_LIMIT = 100          # room events of one answer at most; the client asks again from "end"
DEFAULT_TIMEOUT_MS = 30_000
# Below this many positions since ``from``, finding the rooms with events scans the range.
RANGE_SCAN_LIMIT = 2000


class _PeekContext(SyncContext):
    """A /sync context whose only room is the peeked one, for the ephemeral provider: its
    typing and receipts since ``from`` (never the full picture of a room joined since)."""

    def __init__(self, room_id: str, **kwargs):
        super().__init__(**kwargs)
        self._peeked = room_id

    @property
    def joined_room_ids(self) -> set[str]:
        return {self._peeked}

    @property
    def newly_joined_room_ids(self) -> set[str]:
        return set()


class _Stream:
    """One /events request: who reads what, from which position."""

    def __init__(self, user_id: str, device_id: str | None, room_id: str | None, since: int,
                 start: str, limit: int):
        self.user_id = user_id
        self.device_id = device_id
        self.room_id = room_id
        self.since = since
        self.start = start
        self.limit = limit

    def _context(self, now: int) -> SyncContext:
        kwargs = dict(user_id=self.user_id, device_id=self.device_id or "", since=self.since,
                      now=now, full_state=False, filter=Filter(), set_presence=None)
        if self.room_id is not None:
            return _PeekContext(self.room_id, **kwargs)
        return SyncContext(**kwargs)

    def _room_page(self, ctx: SyncContext, histories: dict[str, RoomHistory]) -> pager.Page:
        """The visible room events after ``since`` (at most ``limit``), oldest first."""
        if self.room_id is not None:
            joined, others = {self.room_id}, set()
        else:
            joined = set(ctx.joined_room_ids)
            others = set(ctx.membership_changes) - joined
        active = reading.rooms_with_events(sorted(joined | others), self.since, ctx.now,
                                           RANGE_SCAN_LIMIT)
        if not active:
            return pager.Page([], False, ctx.now)
        histories.update(reading.histories(sorted(active), self.user_id))
        in_joined = sorted(active & joined)
        in_others = sorted(active & others)
        condition = Event.room.in_(in_joined) if in_joined else None
        if in_others:
            own = (Event.room.in_(in_others) & (Event.type == MEMBER)
                   & (Event.state_key == self.user_id))
            condition = own if condition is None else (condition | own)
        ignored = ignored_users(self.user_id)
        outside = set(in_others)

        def visible(rows: list[Event]) -> list[Event]:
            # Outside a room only one's own membership events are read: always one's to see,
            # except an invite from a user one ignores (as /sync drops it).
            return without_ignored(
                [row for row in rows
                 if (row.sender not in ignored if row.room_id in outside
                     else histories[row.room_id].can_see(row))], ignored)

        return pager.page(Event.select().where(condition), lower=self.since, upper=ctx.now,
                          direction="f", limit=self.limit, visible=visible)

    def build(self) -> tuple[int, dict]:
        """(the position read, the answer) in one snapshot."""
        with read_snapshot():
            now = streams.current_position()
            if self.room_id is not None:
                require_can_read_room(RoomHistory.load(self.room_id, self.user_id), JOINED)
            histories: dict[str, RoomHistory] = {}
            page = self._room_page(self._context(now), histories)
            end = page.boundary if page.more else now
            ctx = self._context(end)
            chunk = reading.to_client(page.rows, self.user_id, self.device_id, Filter(),
                                      include_room_id=True, histories=histories)
            response = SyncResponse()
            if end > self.since:
                providers = [ephemeral_provider]
                if self.room_id is None:
                    providers += [account_data_provider, presence_provider]
                for provider in providers:
                    provider.build(ctx, response)
            chunk += v1_format.flatten(response)
            if self.room_id is not None and end > self.since:
                chunk += v1_format.presence(presence.room_members_presence(
                    self.room_id, since=self.since, upto=end))
        return now, {"chunk": chunk, "start": self.start, "end": sync_token(max(end,
                                                                              self.since))}


def events(user_id: str, device_id: str | None, *, room_id: str | None, from_token: str | None,
           timeout_ms: int | None, limit: int | None, is_guest: bool = False,
           limits: dict | None = None) -> dict:
    """GET /events (see the module docstring); ``limits``: ``per_user_limits``."""
    if room_id is None and is_guest:
        # As Synapse (400): the spec opens /events to guests "as used for room previews".
        raise errors.MissingParam("Guest accounts must name the room_id to read")
    timeout_ms = DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms
    timeout_ms = max(0, min(timeout_ms, MAX_TIMEOUT_MS))
    limit = min(limit or DEFAULT_LIMIT, MAX_LIMIT)
    # A user's own event stream shows them connected; a guest's peek at a room does not.
    shows_presence = room_id is None and not is_guest
    if shows_presence:
        presence_provider.on_sync_request(
            SyncRequest(user_id, device_id or "", None, False, None, timeout_ms))
    with read_snapshot():
        current = streams.current_position()
        since = (parse_pagination_token(from_token, current, "from") if from_token
                 else current)
    stream = _Stream(user_id, device_id, room_id, since, from_token or sync_token(since), limit)
    checked, body = stream.build()
    if body["chunk"] or timeout_ms == 0:
        return body
    limits = limits or DEFAULT_LONG_POLLS
    # Its own per-device slot, so that it and the device's /sync do not evict each other;
    # it still counts against the user's cap of waiting requests.
    slot = long_polls.enter(user_id, f"{device_id or ''} /events",
                            limits["max_long_polls_per_device"],
                            limits["max_long_polls_per_user"], shows_presence=shows_presence)
    latest = {"body": body}

    def build() -> tuple[int, dict | None]:
        now, found = stream.build()
        latest["body"] = found
        return now, (found if found["chunk"] else None)

    try:
        found = wait_for_news(user_id, checked, timeout_ms, slot, build,
                              also_rooms=frozenset({room_id}) if room_id else frozenset())
    finally:
        long_polls.leave(slot)
    return found if found is not None else latest["body"]
