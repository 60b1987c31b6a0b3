"""Ephemeral events for services registered with ``receive_ephemeral`` (MSC2409, in the spec
since v1.13 as the transaction's ``ephemeral`` list; ``push_ephemeral`` and
``de.sorunome.msc2409.push_ephemeral`` are the names bridges still write): the typing and
read-receipt changes, in the stream positions a transaction covers, of the rooms the service
is interested in (each carries its ``room_id``), and the presence changes of the users it is
interested in (interest.py)."""

from __future__ import annotations

from ...models.ephemeral import Receipt, Typing
from ..ephemeral import presence, receipts, typing
from .interest import RoomInterest
from .registrations import AppService

# Rooms with changes looked at per transaction (the changes of more rooms wait for the next).
MAX_ROOMS = 1000
# Presence changes looked at per transaction: beyond, a busy interval's changes are left out
# (presence is a hint; a user's next change brings the service up to date).
MAX_PRESENCE = 1000


def _changed_rooms(model, since: int, upto: int) -> set[str]:
    return {room_id for (room_id,) in model.select(model.room_id).where(
        (model.stream_id > since) & (model.stream_id <= upto)).distinct()
        .limit(MAX_ROOMS).tuples()}


def collect(service: AppService, since: int, upto: int) -> list[dict]:
    """The m.typing, m.receipt and m.presence events of (since, upto] for the service."""
    if upto <= since:
        return []
    typing_rooms = _changed_rooms(Typing, since, upto)
    receipt_rooms = _changed_rooms(Receipt, since, upto)
    interest = RoomInterest(service)
    interest.load(typing_rooms | receipt_rooms)
    out: list[dict] = []
    typed = typing.typing_events(sorted(r for r in typing_rooms if interest.wants_room(r)),
                                 since=since, upto=upto)
    for room_id, event in sorted(typed.items()):
        out.append({**event, "room_id": room_id})
    # Private receipts are their owner's only: a service sees none (viewer "").
    read = receipts.receipts_in(sorted(r for r in receipt_rooms if interest.wants_room(r)),
                                "", since=since, upto=upto)
    for room_id, event in sorted(read.items()):
        out.append({**event, "room_id": room_id})
    changes = presence.changes_between(since, upto, MAX_PRESENCE)
    if changes:
        wanted = interest.users_of_interest({event["sender"] for event in changes})
        out.extend(event for event in changes if event["sender"] in wanted)
    return out
