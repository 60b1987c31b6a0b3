"""Sync provider: ``device_lists`` (incremental syncs only), ``device_one_time_keys_count`` and
``device_unused_fallback_key_types`` (every sync)."""

from __future__ import annotations

from ..e2ee import device_lists
from ..e2ee.keys.upload import key_counts


def build(ctx, response) -> None:
    one_time, fallback = key_counts(ctx.user_id, ctx.device_id)
    response.set("device_one_time_keys_count", one_time, is_update=False)
    response.set("device_unused_fallback_key_types", fallback, is_update=False)
    if ctx.since is None or ctx.nothing_new:
        return
    changed, left = device_lists.changes_between(ctx.user_id, ctx.since, ctx.now,
                                                 joined=ctx.joined_room_ids)
    if changed or left:
        response.set("device_lists", {"changed": changed, "left": left})
