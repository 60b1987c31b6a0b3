"""Sync provider: ``presence`` of the user and of the users sharing a room with them; a /sync
also marks the user online (or unavailable) according to ``set_presence``."""

from __future__ import annotations

from ..ephemeral import presence


def shows_presence(set_presence: str | None) -> bool:
    """Whether a sync with this ``set_presence`` counts as a connected client (a waiting one
    too: ``long_polls``)."""
    return set_presence != presence.OFFLINE


def on_sync_request(request) -> None:
    presence.on_sync(request.user_id, request.set_presence)


def build(ctx, response) -> None:
    if ctx.nothing_new:
        return
    presence_filter = ctx.filter.presence
    if not presence_filter.allows_type("m.presence"):
        return
    also: set[str] = set()
    if ctx.since is not None:
        also = presence.newly_shared_users(ctx.joined_room_ids, ctx.joined_since_room_ids,
                                           ctx.since, ctx.now)
        also.discard(ctx.user_id)
    events = presence.presence_events(ctx.user_id, since=ctx.since, upto=ctx.now, also=also)
    events = presence_filter.filter(events)
    if presence_filter.limit is not None:
        keep = presence_filter.limit_or(len(events))
        events = events[len(events) - keep:] if keep < len(events) else events
    response.add_events("presence", events)
