"""Sync provider: ``to_device.events`` for the syncing device (see services/e2ee/to_device.py)."""

from __future__ import annotations

from ..e2ee import to_device


def on_sync_request(request) -> None:
    to_device.release_batch(request.user_id, request.device_id, request.since)


def build(ctx, response) -> None:
    if ctx.nothing_new:
        return
    response.add_events("to_device", to_device.messages_between(ctx.user_id, ctx.device_id,
                                                                ctx.since, ctx.now))
