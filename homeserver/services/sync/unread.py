"""Sync provider: ``unread_notifications`` (and ``unread_thread_notifications`` when the
filter's ``room.timeline.unread_thread_notifications`` asks) of joined rooms.

Runs after the providers that add rooms. Counts are sent for every joined room on an initial
sync, for rooms joined since, for rooms already in the response, for rooms with new receipts
of the user's, and for rooms with new notifying events when the counts did change.
"""

from __future__ import annotations

from peewee import fn

from ...models.ephemeral import Receipt
from ...models.push import NotifyingEvent, PushAction
from ..push import notifications


def _rooms_with_new_events(ctx) -> set[str]:
    """Rooms with new notifying events (or push actions) for the user since ``since``."""
    new_actions = {room_id for (room_id,) in PushAction.select(fn.DISTINCT(PushAction.room_id))
                   .where((PushAction.user_id == ctx.user_id)
                          & (PushAction.stream_ordering > ctx.since)
                          & (PushAction.stream_ordering <= ctx.now)).tuples()}
    if ctx.joined_room_ids:
        new_actions |= {room_id for (room_id,) in NotifyingEvent.select(
            fn.DISTINCT(NotifyingEvent.room_id)).where(
            NotifyingEvent.room_id.in_(sorted(ctx.joined_room_ids))
            & (NotifyingEvent.stream_ordering > ctx.since)
            & (NotifyingEvent.stream_ordering <= ctx.now)).tuples()}
    return new_actions


def _rooms_with_new_receipts(ctx) -> set[str]:
    return {room_id for (room_id,) in Receipt.select(fn.DISTINCT(Receipt.room_id))
            .where((Receipt.user_id == ctx.user_id) & (Receipt.stream_id > ctx.since)
                   & (Receipt.stream_id <= ctx.now)).tuples()}


def build(ctx, response) -> None:
    if ctx.nothing_new:
        return
    joined = ctx.joined_room_ids
    only_events: set[str] = set()
    if ctx.since is None:
        rooms = set(joined)
    else:
        rooms = set(ctx.newly_joined_room_ids) | _rooms_with_new_receipts(ctx)
        rooms |= {room_id for room_id in joined if response.has_room("join", room_id)}
        # Rooms only with new events (all filtered out of the timeline): listed only when the
        # counts changed, as Synapse (the user's own messages, say, change nothing).
        only_events = (_rooms_with_new_events(ctx) - rooms) & joined
    by_thread = ctx.filter.room.timeline.unread_thread_notifications
    counted = notifications.unread_counts_many(ctx.user_id, (rooms | only_events) & joined,
                                               upto=ctx.now, by_thread=by_thread)
    if only_events:
        before = notifications.unread_counts_many(ctx.user_id, only_events, upto=ctx.since,
                                                  by_thread=by_thread)
        for room_id in only_events:
            if counted[room_id] == before[room_id]:
                del counted[room_id]
    for room_id, (counts, threads) in counted.items():
        entry = response.room("join", room_id)
        entry["unread_notifications"] = counts
        if threads:
            entry["unread_thread_notifications"] = threads
