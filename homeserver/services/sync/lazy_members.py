"""Lazy-loading members in /sync: which membership events a device already has.

A row says "this device was sent member M's event E in room R, in the response whose next_batch
is P". A sync from ``since`` trusts only rows with P <= since: the client holds those responses.
Rows above ``since`` come from responses the client never received (it would sync from them
otherwise), so they are dropped. An initial sync starts the device afresh.
"""

from __future__ import annotations

from ...db import write_transaction
from ...models.sync import LazyLoadedMember


def already_sent(user_id: str, device_id: str, since: int | None,
                 room_ids: list[str]) -> dict[str, dict[str, str]]:
    """room_id -> {member user_id -> event_id} the device holds as of ``since``."""
    if since is None or not room_ids:
        return {}
    result: dict[str, dict[str, str]] = {}
    for start in range(0, len(room_ids), 500):
        rows = (LazyLoadedMember
                .select(LazyLoadedMember.room_id, LazyLoadedMember.member,
                        LazyLoadedMember.event_id)
                .where((LazyLoadedMember.user_id == user_id)
                       & (LazyLoadedMember.device_id == device_id)
                       & LazyLoadedMember.room_id.in_(room_ids[start:start + 500])
                       & (LazyLoadedMember.sent_position <= since))
                .tuples())
        for room_id, member, event_id in rows:
            result.setdefault(room_id, {})[member] = event_id
    return result


def record(user_id: str, device_id: str, since: int | None, sent_position: int,
           sent: dict[str, dict[str, str]]) -> None:
    """Remember what this response (next_batch ``sent_position``) sent:
    room_id -> {member -> event_id}."""
    with write_transaction():
        stale = ((LazyLoadedMember.user_id == user_id)
                 & (LazyLoadedMember.device_id == device_id))
        if since is not None:
            stale &= LazyLoadedMember.sent_position > since
        LazyLoadedMember.delete().where(stale).execute()
        rows = [{"user_id": user_id, "device_id": device_id, "room_id": room_id,
                 "member": member, "event_id": event_id, "sent_position": sent_position}
                for room_id, members in sent.items() for member, event_id in members.items()]
        for start in range(0, len(rows), 200):
            (LazyLoadedMember.insert_many(rows[start:start + 200])
             .on_conflict(conflict_target=[LazyLoadedMember.user_id, LazyLoadedMember.device_id,
                                           LazyLoadedMember.room_id, LazyLoadedMember.member],
                          preserve=[LazyLoadedMember.event_id,
                                    LazyLoadedMember.sent_position])
             .execute())


def has_unconfirmed(user_id: str, device_id: str, since: int | None) -> bool:
    """Whether rows exist that a sync from ``since`` must drop (see ``record``)."""
    stale = ((LazyLoadedMember.user_id == user_id) & (LazyLoadedMember.device_id == device_id))
    if since is not None:
        stale &= LazyLoadedMember.sent_position > since
    return LazyLoadedMember.select().where(stale).exists()
