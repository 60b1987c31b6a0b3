"""Sync provider: global ``account_data`` and each joined room's ``account_data``.

A room the user joined since the last sync gets all of its account data (the client learns
about the room afresh); otherwise only what changed is sent.
"""

from __future__ import annotations

from ..users import account_data_reads


def build(ctx, response) -> None:
    if ctx.nothing_new:
        return
    changes = account_data_reads.changes(ctx.user_id, ctx.since, ctx.now)
    response.add_events("account_data", ctx.filter.account_data.filter(changes.global_events))
    room_events = {room_id: events for room_id, events in changes.room_events.items()
                   if room_id in ctx.joined_room_ids}
    fresh = ctx.newly_joined_room_ids & ctx.joined_room_ids if ctx.since is not None else set()
    if fresh:
        everything = account_data_reads.changes(ctx.user_id, None, ctx.now).room_events
        room_events.update({room_id: everything[room_id] for room_id in fresh
                            if room_id in everything})
    room_filter = ctx.filter.room.account_data
    for room_id, events in room_events.items():
        response.add_room_events("join", room_id, "account_data",
                                 room_filter.filter(events, room_id))
