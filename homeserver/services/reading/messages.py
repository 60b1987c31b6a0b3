"""Reading a room's history: GET /rooms/{roomId}/messages, /context/{eventId} and
/timestamp_to_event.

Tokens are stream positions (``services/reading/stream_tokens.py``): a point between events, so a
/sync ``prev_batch`` or ``next_batch`` works as ``from``/``to`` here. History visibility applies to
every event returned; a user who never was in the room (and it is not world_readable) is
refused with 403.
"""

from __future__ import annotations

from ... import errors
from ...models.rooms import CurrentState, Event
from ..event_types import MEMBER
from ..rooms import state as room_state
from ..streams import positions as streams
from . import filters as filters_service
from . import timeline
from .filters import MAX_LIMIT, EventFilter, Filter
from .pager import BATCH, Page, Scan
from .snapshot import read_snapshot
from .stream_tokens import pagination_token, parse_pagination_token
from .visibility import RoomHistory, require_can_read_room

DEFAULT_LIMIT = 10


def _reader(room_id: str, user_id: str) -> RoomHistory:
    """The user's view of the room, or 403 when they never had any part in it."""
    history = RoomHistory.load(room_id, user_id)
    require_can_read_room(history)
    return history


def _readable_upper(history: RoomHistory, current: int) -> int:
    """Nothing after a user stopped being in the room is visible to them (unless the room is
    world_readable): searches stop at their leave instead of scanning what they cannot see."""
    membership = history.current_membership()
    if membership in ("join", "invite", "knock", None) or history.is_world_readable():
        return current
    left_at = (CurrentState.select(CurrentState.stream_ordering)
               .where((CurrentState.room == history.room_id) & (CurrentState.type == MEMBER)
                      & (CurrentState.state_key == history.user_id)).scalar())
    return min(left_at, current) if left_at is not None else current


def _serialize(rows: list[Event], user_id: str, device_id: str | None, histories) -> list[dict]:
    return timeline.to_client(rows, user_id, device_id, Filter(), include_room_id=True,
                              histories=histories)


def _lazy_members(room_id: str, rows: list[Event], position: int, now: int,
                  event_filter: EventFilter) -> list[Event]:
    """The member events of the senders of ``rows`` as of ``position`` (lazy-loading)."""
    senders = {row.sender for row in rows}
    members = timeline.members_at(room_id, position, now, senders)
    return sorted((row for row in members.values()
                   if event_filter.matches({"type": row.type, "sender": row.sender})),
                  key=lambda row: row.stream_ordering)


def readable_page(history: RoomHistory, user_id: str, device_id: str | None, *,
                  lower: int | None, upper: int, direction: str,
                  limit: int) -> tuple[list[dict], Page]:
    """Up to ``limit`` events in (lower, upper] the user may see, serialized, in scan order
    (newest first for "b"), for the room previews (room initialSync, /events): the same
    reading path as /messages, unfiltered."""
    page = timeline.room_events(history.room_id, lower=lower, upper=upper, direction=direction,
                                limit=min(limit, MAX_LIMIT), event_filter=EventFilter(),
                                visible=history.visible)
    return _serialize(page.rows, user_id, device_id, {history.room_id: history}), page


def messages(user_id: str, device_id: str | None, room_id: str, *, direction: str,
             from_token: str | None, to_token: str | None, limit: int | None,
             filter_ref: dict | str | None) -> dict:
    """GET /rooms/{roomId}/messages."""
    event_filter = filters_service.resolve_room_event_filter(user_id, filter_ref)
    limit = min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT)
    with read_snapshot():
        current = streams.current_position()
        history = _reader(room_id, user_id)
        start = (parse_pagination_token(from_token, current, "from") if from_token
                 else (current if direction == "b" else 0))
        end = parse_pagination_token(to_token, current, "to") if to_token else None
        upper_bound = _readable_upper(history, current)
        if direction == "b":
            lower, upper = end, min(start, upper_bound)
        else:
            lower, upper = start, min(end if end is not None else current, upper_bound)
        body: dict = {"start": from_token or pagination_token(start), "chunk": []}
        if not event_filter.allows_room(room_id) or (lower is not None and upper <= lower):
            return body
        page = timeline.room_events(room_id, lower=lower, upper=upper, direction=direction,
                                    limit=limit, event_filter=event_filter,
                                    visible=history.visible)
        histories = {room_id: history}
        body["chunk"] = _serialize(page.rows, user_id, device_id, histories)
        # As Synapse: "end" whenever the scan went past any event (even if none was visible
        # or more may come, e.g. dir=f at the live edge, so the client keeps paging from
        # there); omitted only when the range held nothing at all.
        if page.more or page.boundary != (upper if direction == "b" else lower):
            body["end"] = pagination_token(page.boundary)
        if event_filter.lazy_load_members and page.rows:
            newest = max(row.stream_ordering for row in page.rows)
            members = _lazy_members(room_id, page.rows, newest, current, event_filter)
            body["state"] = _serialize(members, user_id, device_id, histories)
    return body


def context(user_id: str, device_id: str | None, room_id: str, event_id: str, *,
            limit: int | None, filter_ref: dict | str | None) -> dict:
    """GET /rooms/{roomId}/context/{eventId}: the event, events around it, state after them."""
    event_filter = filters_service.resolve_room_event_filter(user_id, filter_ref)
    limit = min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT)
    with read_snapshot():
        current = streams.current_position()
        history = _reader(room_id, user_id)
        event = Event.get_or_none((Event.event_id == event_id) & (Event.room == room_id))
        if event is None or not history.can_see(event):
            raise errors.NotFound("Event not found")
        before_limit = limit // 2
        after_limit = limit - before_limit
        before = timeline.room_events(room_id, lower=None, upper=event.stream_ordering - 1,
                                      direction="b", limit=before_limit,
                                      event_filter=event_filter, visible=history.visible)
        after = timeline.room_events(room_id, lower=event.stream_ordering,
                                     upper=_readable_upper(history, current), direction="f",
                                     limit=after_limit, event_filter=event_filter,
                                     visible=history.visible)
        first = before.rows[-1].stream_ordering if before.rows else event.stream_ordering
        last = after.rows[-1].stream_ordering if after.rows else event.stream_ordering
        shown = before.rows + [event] + after.rows
        if event_filter.lazy_load_members:
            state_rows = _lazy_members(room_id, shown, last, current, event_filter)
        else:
            state = room_state.state_at(room_id, last, now=current)
            state_rows = sorted((row for row in state.values()
                                 if event_filter.matches({"type": row.type,
                                                          "sender": row.sender,
                                                          "content": timeline.content_of(row)})),
                                key=lambda row: row.stream_ordering)
        histories = {room_id: history}
        return {
            "start": pagination_token(first - 1),
            "end": pagination_token(last),
            "event": _serialize([event], user_id, device_id, histories)[0],
            "events_before": _serialize(before.rows, user_id, device_id, histories),
            "events_after": _serialize(after.rows, user_id, device_id, histories),
            "state": _serialize(state_rows, user_id, device_id, histories),
        }


def event_at_timestamp(user_id: str, room_id: str, ts: int, direction: str) -> dict:
    """GET /v1/rooms/{roomId}/timestamp_to_event: the closest visible event at or after
    (``f``) / at or before (``b``) ``ts``."""
    with read_snapshot():
        history = _reader(room_id, user_id)
        base = Event.select(Event).where(Event.room == room_id)
        forwards = direction == "f"

        def fetch(cursor: tuple[int, int] | None) -> list[Event]:
            """The batch after ``cursor``: (origin_server_ts, stream_ordering) of the last row."""
            query = base
            if forwards:
                if cursor is None:
                    query = query.where(Event.origin_server_ts >= ts)
                else:
                    query = query.where(
                        (Event.origin_server_ts > cursor[0])
                        | ((Event.origin_server_ts == cursor[0])
                           & (Event.stream_ordering > cursor[1])))
                query = query.order_by(Event.origin_server_ts, Event.stream_ordering)
            else:
                if cursor is None:
                    query = query.where(Event.origin_server_ts <= ts)
                else:
                    query = query.where(
                        (Event.origin_server_ts < cursor[0])
                        | ((Event.origin_server_ts == cursor[0])
                           & (Event.stream_ordering < cursor[1])))
                query = query.order_by(Event.origin_server_ts.desc(),
                                       Event.stream_ordering.desc())
            return list(query.limit(BATCH))

        for rows in Scan(fetch, lambda row: (row.origin_server_ts, row.stream_ordering)):
            for row in history.visible(rows):
                return {"event_id": row.event_id, "origin_server_ts": row.origin_server_ts}
    word = "forward" if forwards else "backward"
    raise errors.NotFound(f"Unable to find event from {ts} in {word} direction")
