"""The /sync loop: build a response from the providers; if it is empty, wait and build again.

An incremental sync with nothing new for the user is answered without running the providers'
queries: the stream listener (``streams.notifier``) has a record of which rooms and users every
recent position concerns, and this process's cache of the user's memberships
(``memberships.cached``) says which rooms are theirs; when no position above ``since`` names the
user or one of those rooms, the response is built at the newest such position with only the
fields sent on every sync (``_quiet_position``). Anything it cannot prove takes the full path.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from ..reading import filters as filters_service
from ..reading.snapshot import read_snapshot
from ..reading.stream_tokens import parse_sync_token, sync_token
from ..server import metrics
from ..streams import notifier, positions as streams
from ..streams.long_polls import DEFAULT_LONG_POLLS, MAX_TIMEOUT_MS
from ..streams.long_polls import registry as long_polls
from . import presence as presence_provider
from .context import SyncContext
from .memberships import cached as cached_memberships, memberships_at
from .providers import PROVIDERS
from .response import SyncResponse


@dataclass(frozen=True)
class SyncRequest:
    user_id: str
    device_id: str
    since: int | None
    full_state: bool
    set_presence: str | None
    timeout_ms: int


# Long-polls woken at once (a message in a room of hundreds of connected members wakes them all)
# build their answers a few at a time per process: each build is CPU and statements, and
# hundreds of threads wanting the GIL at once starve the one holding SQLite's writer turn (or
# a room lock) of it until writers queued behind time out. Waiting here holds no connection.
WOKEN_BUILDS = threading.BoundedSemaphore(max(4, 2 * (os.cpu_count() or 1)))

# Memberships whose rooms' writes concern a user's /sync.
_INTERESTING = ("join", "invite", "knock")


def _quiet_position(request: SyncRequest, heard: int | None, current: int) -> int | None:
    """A position P >= ``current`` such that nothing in (since, P] concerns this sync, known
    without reading the streams; None when that cannot be proven here (take the full path).

    ``current``: the stream counter just read (``heard``: ``notifier.heard()`` just before).
    Every write names the rooms and users it concerns (``positions.next_position``); the
    user's own membership events name the user, so while no position names them they keep the
    rooms this process last read (``memberships.cached``), and those rooms and the user are
    checked in the stream listener's record of recent positions.
    """
    since = request.since
    if since == current:
        return since  # nothing at all was written
    found = cached_memberships(request.user_id)
    if found is None:
        return None
    known_at, memberships = found
    rooms = {room_id for room_id, m in memberships.items() if m.membership in _INTERESTING}
    quiet = notifier.quiet_position(heard, current, [
        # The memberships hold over (since, P]: no change of the user's since they were read.
        (min(known_at, since), (), (request.user_id,)),
        (since, rooms, ()),
    ])
    if quiet is None or quiet < known_at:
        return None
    return quiet


def _build(request: SyncRequest, filter: filters_service.Filter, use_state_after: bool,
           counter: tuple[int | None, int] | None = None) -> tuple[SyncContext, SyncResponse]:
    """``counter``: (``notifier.heard()``, the counter) read since this request's last write,
    if any (read here otherwise)."""
    response = SyncResponse()
    quiet = None
    if request.since is not None and not request.full_state:
        heard, current = counter or (notifier.heard(), streams.current_position())
        quiet = _quiet_position(request, heard, current)
    if quiet is not None:
        # Nothing new: the providers add only what they send on every sync (key counts), which
        # needs no snapshot.
        ctx = SyncContext(user_id=request.user_id, device_id=request.device_id,
                          since=request.since, now=quiet, full_state=False, filter=filter,
                          set_presence=request.set_presence, use_state_after=use_state_after,
                          nothing_new=True)
        for provider in PROVIDERS:
            provider.build(ctx, response)
        return ctx, response
    with read_snapshot():
        ctx = SyncContext(user_id=request.user_id, device_id=request.device_id,
                          since=request.since, now=streams.current_position(),
                          full_state=request.full_state, filter=filter,
                          set_presence=request.set_presence, use_state_after=use_state_after)
        for provider in PROVIDERS:
            provider.build(ctx, response)
    return ctx, response


def sync(user_id: str, device_id: str, *, since: str | None, filter_ref: dict | str | None,
         timeout_ms: int, full_state: bool, set_presence: str | None,
         use_state_after: bool = False, limits: dict | None = None) -> dict:
    """GET /sync for a user's device. ``filter_ref`` is an inline filter or a filter ID.
    ``limits``: ``per_user_limits`` (long-polls waiting at once, see ``long_polls``)."""
    filter = filters_service.resolve(user_id, filter_ref)
    # The counter read to check the since token also serves an answer built at once (one round
    # trip less), unless a hook below writes: its position must be in that answer.
    counter = None
    if since:
        counter = (None if full_state else notifier.heard(), streams.current_position())
    since_position = parse_sync_token(since, counter[1]) if since else None
    request = SyncRequest(user_id, device_id, since_position, full_state, set_presence,
                          min(timeout_ms, MAX_TIMEOUT_MS))
    taken = streams.taken_here()
    for provider in PROVIDERS:
        hook = getattr(provider, "on_sync_request", None)
        if hook is not None:
            hook(request)
    if streams.taken_here() != taken:
        counter = None

    # An initial or full-state sync answers at once; an incremental one waits for news.
    wait = since_position is not None and not full_state and request.timeout_ms > 0
    if wait:
        limits = limits or DEFAULT_LONG_POLLS
        slot = long_polls.enter(user_id, device_id, limits["max_long_polls_per_device"],
                                limits["max_long_polls_per_user"],
                                shows_presence=presence_provider.shows_presence(set_presence))
        try:
            found = _long_poll(request, filter, use_state_after, slot)
        finally:
            long_polls.leave(slot)
        if found is not None:
            return found
    # Initial and full-state syncs, and long-polls that timed out (or were replaced by a newer
    # one): one build, which also carries the fields sent on every sync (key counts).
    ctx, response = _build(request, filter, use_state_after, None if wait else counter)
    return _finish(ctx, response, filter, use_state_after)


def _long_poll(request: SyncRequest, filter: filters_service.Filter, use_state_after: bool,
               slot) -> dict | None:
    """Wait for news; the response when there is some, None on timeout or eviction."""
    def build() -> tuple[int, dict | None]:
        ctx, response = _build(request, filter, use_state_after)
        if not response.has_updates:
            return ctx.now, None
        return ctx.now, _finish(ctx, response, filter, use_state_after)

    return wait_for_news(request.user_id, request.since, request.timeout_ms, slot, build)


def wait_for_news(user_id: str, since: int, timeout_ms: int, slot, build,
                  also_rooms: frozenset[str] = frozenset()):
    """The long-poll loop of /sync, sliding sync and /events: ``build() -> (now, result or
    None)`` runs whenever a position concerning the user (or one of ``also_rooms``: a room
    peeked at) was taken above the last one checked; the first non-None result is returned,
    None on timeout or when ``slot`` (``long_polls``) is evicted by a newer long-poll of the
    device."""
    deadline = time.monotonic() + timeout_ms / 1000
    # Everything up to this position is known to hold nothing for this client.
    checked = since
    while not slot.evicted:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        with read_snapshot():
            rooms = _interesting_rooms(user_id, streams.current_position()) | also_rooms
        # Sleep until a position above ``checked`` concerns one of the user's rooms or the user
        # (at once if the listener already heard of one, or has no record of part of the
        # interval), or a newer long-poll of the device evicts this one. Writes elsewhere on
        # the server wake nobody here: nothing is built for them.
        slot.event.clear()
        if slot.evicted:
            break
        with metrics.LONG_POLLS.track_inprogress():
            woken = notifier.wait_for_position_above(checked, remaining, rooms=rooms,
                                                     users={user_id}, event=slot.event)
        if slot.evicted or not woken:
            break
        with WOKEN_BUILDS:
            checked, result = build()
        if result is not None:
            return result
    return None


def _interesting_rooms(user_id: str, now: int) -> set[str]:
    """The rooms whose writes may concern the user: joined, invited or knocked."""
    return {room_id for room_id, m in memberships_at(user_id, now).items()
            if m.membership in _INTERESTING}


def _finish(ctx: SyncContext, response: SyncResponse, filter: filters_service.Filter,
            use_state_after: bool) -> dict:
    response.run_deferred()
    return response.to_dict(sync_token(ctx.now), filter.room, use_state_after=use_state_after)
