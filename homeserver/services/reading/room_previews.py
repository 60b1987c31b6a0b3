"""Reading one room without /sync: GET /rooms/{roomId}/initialSync (roomInitialSync) and
GET /events?room_id= (peekEvents, module "Room Previews").

Both read through the same path as /messages (``history.readable_page``: history visibility,
client serialization) and hand out stream-position tokens (``reading/stream_tokens.py``), so their
tokens work with /messages and with each other.

Who may read: a joined member; a user who left (or was banned) sees the room as it was when
they stopped being joined (state, messages; no presence, no receipts), as Synapse; anyone with
an account may read a world_readable room. Everyone else: 403 M_FORBIDDEN.
"""

from __future__ import annotations

import time

from ..ephemeral import presence, receipts
from ..rooms import directory
from ..rooms import state as room_state
from ..streams import notifier
from ..streams import positions as streams
from ..streams.long_polls import DEFAULT_LONG_POLLS, MAX_TIMEOUT_MS
from ..streams.long_polls import registry as long_polls
from ..userdata import account_data
from . import messages
from . import timeline
from .filters import Filter
from .snapshot import read_snapshot
from .stream_tokens import pagination_token, parse_pagination_token, sync_token
from .visibility import JOINED, RoomHistory, require_can_read_room

# Synapse's defaults: 10 messages in a room initialSync, a 30 s wait on /events.
DEFAULT_LIMIT = messages.DEFAULT_LIMIT
DEFAULT_TIMEOUT_MS = 30_000
# Events of one /events answer at most; the client asks again from ``end`` for the rest.
EVENTS_PAGE = 100
SPEC_MEMBERSHIPS = ("invite", "join", "leave", "ban")


def _upper_bound(room_history: RoomHistory, current: int) -> tuple[int, bool]:
    """The position up to which the user reads the room, and whether that is a departed
    member's view (the room as of when they stopped being joined); 403 when they may not."""
    departed = (room_history.departed_position()
                if room_history.current_membership() in ("leave", "ban") else None)
    if departed is not None:
        return min(departed, current), True
    require_can_read_room(room_history, JOINED)
    return current, False


def room_initial_sync(user_id: str, device_id: str | None, room_id: str, *,
                      limit: int | None) -> dict:
    """GET /rooms/{roomId}/initialSync: a snapshot of one room as the user may see it."""
    limit = DEFAULT_LIMIT if limit is None else limit
    with read_snapshot():
        current = streams.current_position()
        room_history = RoomHistory.load(room_id, user_id)
        upper, departed = _upper_bound(room_history, current)
        events, page = messages.readable_page(room_history, user_id, device_id, lower=None,
                                              upper=upper, direction="b", limit=limit)
        state_rows = sorted(room_state.state_at(room_id, upper, now=current).values(),
                            key=lambda row: row.stream_ordering)
        body = {
            "room_id": room_id,
            "messages": {"chunk": events[::-1], "start": pagination_token(page.boundary),
                         "end": pagination_token(upper)},
            "state": timeline.to_client(state_rows, user_id, device_id, Filter(),
                                        include_room_id=True, bundle=False,
                                        histories={room_id: room_history}),
            "presence": [],
            "receipts": [],
            "account_data": account_data.room_events(user_id, room_id),
            "visibility": directory.get_visibility(room_id),
        }
        membership = room_history.current_membership()
        if membership in SPEC_MEMBERSHIPS:
            body["membership"] = membership
        if membership == "join":
            body["presence"] = presence.presence_of(room_state.joined_members(room_id))
        if not departed:
            body["receipts"] = list(receipts.receipts_in([room_id], user_id, since=None,
                                                         upto=current).values())
    return body


def _events_since(user_id: str, device_id: str | None, room_id: str, since: int,
                  from_token: str | None) -> tuple[dict, int]:
    """The visible events of the room after ``since`` (one snapshot), and the position read."""
    with read_snapshot():
        current = streams.current_position()
        room_history = RoomHistory.load(room_id, user_id)
        require_can_read_room(room_history, JOINED)
        body = {"chunk": [], "start": from_token or sync_token(since),
                "end": sync_token(max(since, current))}
        if since < current:
            events, page = messages.readable_page(room_history, user_id, device_id,
                                                  lower=since, upper=current, direction="f",
                                                  limit=EVENTS_PAGE)
            body["chunk"] = events
            if page.more:
                body["end"] = sync_token(page.boundary)
    return body, current


def peek_events(user_id: str, device_id: str | None, room_id: str, *,
                from_token: str | None, timeout_ms: int | None,
                limits: dict | None = None) -> dict:
    """GET /events?room_id=: the room's events after ``from`` (now when absent), waiting up to
    ``timeout_ms`` for one when there is none yet. A joined member may call it too; anyone
    else only for a world_readable room."""
    timeout_ms = DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms
    timeout_ms = max(0, min(timeout_ms, MAX_TIMEOUT_MS))
    with read_snapshot():
        since = (parse_pagination_token(from_token, streams.current_position(), "from")
                 if from_token else streams.current_position())
    body, checked = _events_since(user_id, device_id, room_id, since, from_token)
    if body["chunk"] or timeout_ms == 0:
        return body
    limits = limits or DEFAULT_LONG_POLLS
    # Its own per-device slot, so that it and the device's /sync do not evict each other;
    # it still counts against the user's cap of waiting requests.
    slot = long_polls.enter(user_id, f"{device_id or ''} /events",
                            limits["max_long_polls_per_device"],
                            limits["max_long_polls_per_user"])
    deadline = time.monotonic() + timeout_ms / 1000
    try:
        while not slot.evicted:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            slot.event.clear()
            woken = notifier.wait_for_position_above(checked, remaining, rooms={room_id},
                                                     event=slot.event)
            if slot.evicted or not woken:
                break
            body, checked = _events_since(user_id, device_id, room_id, since, from_token)
            if body["chunk"]:
                break
    finally:
        long_polls.leave(slot)
    return body
