"""GET /v1/rooms/{roomId}/threads (spec module "Threading": querying threads in a room).

Thread roots are the events that ``m.thread`` children point at. They are listed by their
latest thread activity, newest first; the pagination token is a stream position: the next page
holds the threads whose latest event is at or before it. Every root carries its bundled
aggregations (``services.reading.relations``). A root the user may not see (history visibility) is
left out; a root sent by a user they ignore is shown redacted, as a client aggregating locally
would show it.
"""

from __future__ import annotations

import json

import peewee

from ...models.rooms import Event
from ..rooms import event_format
from ..rooms.room_versions import get_room_version
from ..rooms.state import room_version
from ..streams import positions as streams
from .filters import MAX_LIMIT
from .pager import BATCH, Scan
from .relations import THREAD, Reader, bundle_aggregations
from .snapshot import read_snapshot
from .stream_tokens import pagination_token, parse_pagination_token
from .visibility import NOT_BANNED, require_can_read_room

DEFAULT_LIMIT = 20


def thread_roots(user_id: str, device_id: str | None, room_id: str, *, include: str = "all",
                 from_token: str | None = None, limit: int | None = None) -> dict:
    limit = min(DEFAULT_LIMIT if limit is None else limit, MAX_LIMIT)
    with read_snapshot():
        current = streams.current_position()
        reader = Reader(room_id, user_id, device_id)
        history = reader.history
        require_can_read_room(history, NOT_BANNED)
        upper = parse_pagination_token(from_token, current, "from") if from_token else current
        participated_in = _threads_with_events_of(room_id, user_id) \
            if include == "participated" else set()

        latest = peewee.fn.MAX(Event.stream_ordering)
        groups = (Event.select(Event.relates_to_id, latest.alias("latest"))
                  .where((Event.room == room_id) & (Event.relation_type == THREAD))
                  .group_by(Event.relates_to_id))
        chosen: list[tuple[Event, int]] = []  # (root, position of its latest thread event)
        # Threads newest first; a batch continues below the last one's latest event.
        scan = Scan(lambda last: list(
            groups.having(latest <= (upper if last is None else last - 1))
            .order_by(latest.desc()).limit(BATCH).tuples()), lambda group: group[1])
        for page in scan:
            roots = {row.event_id: row for row in Event.select().where(
                Event.event_id.in_([root_id for root_id, _ in page])
                & (Event.room == room_id) & Event.state_key.is_null())} if page else {}
            for root_id, position in page:
                root = roots.get(root_id)
                if root is None or not history.can_see(root):
                    continue
                if include == "participated" and root.sender != user_id \
                        and root_id not in participated_in:
                    continue
                chosen.append((root, position))
            if len(chosen) > limit:
                break
        next_position = None
        if len(chosen) > limit:
            chosen = chosen[:limit]
            next_position = chosen[-1][1] - 1
        elif not scan.exhausted:
            next_position = upper if scan.cursor is None else scan.cursor - 1
        shown = [_redacted_copy(root) if root.sender in reader.ignored else root
                 for root, _ in chosen]
        chunk = reader.serialize(shown)
        bundle_aggregations(chunk, user_id, device_id, histories={room_id: history})
    body: dict = {"chunk": chunk}
    if next_position is not None:
        body["next_batch"] = pagination_token(next_position)
    return body


def _threads_with_events_of(room_id: str, user_id: str) -> set[str]:
    return {root_id for (root_id,) in Event.select(Event.relates_to_id).where(
        (Event.room == room_id) & (Event.relation_type == THREAD)
        & (Event.sender == user_id)).distinct().tuples()}


def _redacted_copy(row: Event) -> Event:
    """An unsaved copy of the row whose JSON went through the room version's redaction."""
    version = get_room_version(room_version(row.room_id))
    copy = Event(**row.__data__)
    copy.json = json.dumps(event_format.redact(json.loads(row.json), version),
                           ensure_ascii=False, separators=(",", ":"))
    return copy
