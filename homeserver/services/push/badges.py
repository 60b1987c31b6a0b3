"""Badge pushes: when a read receipt lowers a user's unread count, each of their http pushers
gets a notification with the new count and no event, so a phone's badge drops when the user
reads elsewhere. Not in the Push Gateway API's text (which describes event notifications);
Synapse sends it (``id`` "", ``counts``, ``devices``) and gateways and SyTest expect it.

The delivery is a PushDelivery row without an event (``event_id`` ``BADGE``), queued in the
receipt's transaction and sent by ``sender`` in order with the pusher's other notifications.
"""

from __future__ import annotations

from ... import clock
from ...models.push import PushDelivery, Pusher
from . import notifications
from .queued import queued

# The event_id of a badge delivery: no event.
BADGE = ""


def http_pushers(user_id: str) -> list[int]:
    return [pusher_id for (pusher_id,) in Pusher.select(Pusher.id).where(
        (Pusher.user_id == user_id) & (Pusher.kind == "http")).tuples()]


def read_and_queue(user_id: str, room_id: str, position: int, advance) -> None:
    """Run ``advance()`` (the read position's move, inside the caller's write transaction) and
    queue a badge delivery for each http pusher when the user's unread count changed."""
    pushers = http_pushers(user_id)
    before = notifications.total_unread(user_id) if pushers else None
    advance()
    if not pushers or notifications.total_unread(user_id) == before:
        return
    now = clock.now_ms()
    PushDelivery.insert_many([
        {"pusher": pusher_id, "event_id": BADGE, "room_id": room_id,
         "stream_ordering": position, "actions": "[]", "attempts": 0,
         "next_attempt_ts": now, "created_ts": now} for pusher_id in pushers]).execute()
    queued(position)
