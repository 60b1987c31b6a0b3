"""Reading one room without /sync: GET /rooms/{roomId}/initialSync (roomInitialSync, module
"Room Previews"; its companion GET /events?room_id= is ``services/legacy_sync/event_stream``).

It reads through the same path as /messages (``messages.readable_page``: history visibility,
client serialization) and hands out stream-position tokens (``reading/stream_tokens.py``), so
its tokens work with /messages and /events.

Its presence events name their user in ``content`` too, as the v1 APIs do (``v1_format``).

Who may read: a joined member; a user who left (or was banned) sees the room as it was when
they stopped being joined (state, messages; no presence, no receipts), as Synapse; anyone with
an account may read a world_readable room. Everyone else: 403 M_FORBIDDEN.
"""

from __future__ import annotations

from ..ephemeral import presence, receipts
from . import v1_format
from ..rooms import directory
from ..rooms import state as room_state
from ..streams import positions as streams
from ..userdata import account_data
from . import messages
from . import timeline
from .filters import Filter
from .snapshot import read_snapshot
from .stream_tokens import pagination_token
from .visibility import JOINED, RoomHistory, require_can_read_room

# Synapse's default: 10 messages in a room initialSync.
DEFAULT_LIMIT = messages.DEFAULT_LIMIT
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
            body["presence"] = v1_format.presence(
                presence.presence_of(room_state.joined_members(room_id)))
        if not departed:
            body["receipts"] = list(receipts.receipts_in([room_id], user_id, since=None,
                                                         upto=current).values())
    return body
