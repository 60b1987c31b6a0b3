"""Sync provider: each joined room's ``ephemeral`` events, m.typing and m.receipt.

Rooms joined since the last sync get the full picture (who types, every receipt); other rooms
get the typing list when it changed and the receipts written since. Private receipts are only
ever sent to their owner; ignored users are left out of typing lists.
"""

from __future__ import annotations

from ..ephemeral import receipts, typing
from ..userdata import account_data


def build(ctx, response) -> None:
    if ctx.nothing_new:
        return
    ephemeral = ctx.filter.room.ephemeral
    wants_typing = ephemeral.allows_type("m.typing")
    wants_receipts = ephemeral.allows_type("m.receipt")
    if not (wants_typing or wants_receipts):
        return
    joined = ctx.joined_room_ids
    fresh = sorted(ctx.newly_joined_room_ids & joined)
    known = sorted(joined - set(fresh))
    found: dict[str, list[dict]] = {}

    def collect(events: dict[str, dict]) -> None:
        for room_id, event in events.items():
            found.setdefault(room_id, []).append(event)

    if wants_typing:
        hide = account_data.ignored_users(ctx.user_id)
        collect(typing.typing_events(fresh, since=None, upto=ctx.now, hide=hide))
        if ctx.since is not None:
            collect(typing.typing_events(known, since=ctx.since, upto=ctx.now, hide=hide))
    if wants_receipts:
        collect(receipts.receipts_in(fresh, ctx.user_id, since=None, upto=ctx.now))
        if ctx.since is not None:
            collect(receipts.receipts_in(known, ctx.user_id, since=ctx.since, upto=ctx.now))
    for room_id, events in found.items():
        response.add_room_events("join", room_id, "ephemeral", ephemeral.filter(events, room_id))
