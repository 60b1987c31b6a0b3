"""Sliding sync (MSC4186): build a response at one stream position inside one read snapshot
(as /sync does), long-poll on the same wake-ups as /sync when it holds nothing new, and record
what it sent for the connection."""

from __future__ import annotations

from dataclasses import dataclass

from ..reading.snapshot import read_snapshot
from ..streams import positions as streams
from ..streams.long_polls import DEFAULT_LONG_POLLS, MAX_TIMEOUT_MS
from ..streams.long_polls import registry as long_polls
from ..sync import presence as presence_provider
from ..sync.memberships import memberships_at
from ..sync.service import SyncRequest, wait_for_news
from ..userdata import account_data
from . import connections, extensions
from .connections import Connection
from .request import Request, read
from .rooms import RoomsBuilder, RoomsResult


@dataclass
class _Built:
    now: int
    body: dict
    rooms: RoomsResult
    news: bool


def _build(request: Request, connection: Connection, limits: dict) -> _Built:
    user_id, device_id = connection.user_id, connection.device_id
    with read_snapshot():
        now = streams.current_position()
        memberships = memberships_at(user_id, now)
        ignored = account_data.ignored_users(user_id)
        rooms = RoomsBuilder(request, connection, user_id, now, memberships, ignored,
                             limits["max_rooms_per_response"]).run()
        found, news = extensions.build(request.extensions, user_id=user_id,
                                       device_id=device_id, now=now,
                                       prev=connection.stream_position, rooms_result=rooms)
    body = {"lists": rooms.lists, "rooms": rooms.rooms, "extensions": found}
    return _Built(now, body, rooms, news or bool(rooms.rooms))


def sliding_sync(user_id: str, device_id: str, body: dict, *, pos: str | None,
                 timeout_ms: int, set_presence: str | None, limits: dict,
                 long_poll_limits: dict | None = None) -> dict:
    """POST .../org.matrix.simplified_msc3575/sync. ``body`` as ``SlidingSyncBody`` loaded
    it; ``limits``: the ``sliding_sync`` config section; ``long_poll_limits``: the
    ``per_user_limits`` (long-polls waiting at once, shared with /sync)."""
    request = read(body, user_id, limits)
    pos = pos if pos is not None else body.get("pos")
    connection = connections.open_connection(user_id, device_id, request.conn_id, pos,
                                             limits["connection_lifetime_ms"])
    if body.get("timeout") is not None and timeout_ms == 0:
        timeout_ms = body["timeout"]
    timeout_ms = min(timeout_ms, MAX_TIMEOUT_MS)
    current = streams.current_position()
    presence_provider.on_sync_request(SyncRequest(user_id, device_id, None, False,
                                                  set_presence, timeout_ms))
    extensions.before_build(user_id, device_id, request.extensions, current)

    built = None
    if connection.id is not None and timeout_ms > 0:
        built = _build(request, connection, limits)
        if not built.news:
            built = _wait(request, connection, limits, long_poll_limits, timeout_ms,
                          built.now, presence_provider.shows_presence(set_presence)) or built
    if built is None:
        built = _build(request, connection, limits)
    new_pos = connections.commit(connection, built.now, built.rooms.sent,
                                 built.rooms.up_to_date, limits["max_connections_per_device"],
                                 limits["connection_lifetime_ms"])
    return {"pos": new_pos, **built.body}


def _wait(request: Request, connection: Connection, limits: dict,
          long_poll_limits: dict | None, timeout_ms: int, checked: int,
          shows_presence: bool) -> _Built | None:
    caps = long_poll_limits or DEFAULT_LONG_POLLS
    slot = long_polls.enter(connection.user_id, connection.device_id,
                            caps["max_long_polls_per_device"], caps["max_long_polls_per_user"],
                            shows_presence=shows_presence)
    try:
        def build():
            built = _build(request, connection, limits)
            return built.now, built if built.news else None

        return wait_for_news(connection.user_id, checked, timeout_ms, slot, build)
    finally:
        long_polls.leave(slot)
