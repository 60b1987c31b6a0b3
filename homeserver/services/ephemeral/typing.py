"""Typing notifications (PUT /rooms/{roomId}/typing/{userId}), stored so every process and
host sees them.

A row says a user types in a room until ``expires_ts`` (0: stopped). A start, a stop and an
expiry each take a stream position, so syncs wake up and send the room's new typing list; a
typing user refreshing their timeout changes nothing others see and takes none. Expiries are
turned into positions by ``expire_due`` (run about once a second by services/ephemeral_expiry);
readers never show an expired row whatever that sweep's timing.
"""

from __future__ import annotations

from ... import clock, errors
from ...db import write_transaction
from ...models.ephemeral import Typing
from ..streams.positions import next_position
from ..rooms.state import require_joined

DEFAULT_TIMEOUT_MS = 30_000
MAX_TIMEOUT_MS = 120_000


def set_typing(requester_user_id: str, user_id: str, room_id: str, typing: bool,
               timeout_ms: int | None) -> None:
    if requester_user_id != user_id:
        raise errors.Forbidden("You cannot set the typing state of another user")
    now = clock.now_ms()
    with write_transaction():
        require_joined(room_id, user_id)
        row = Typing.get_or_none((Typing.room_id == room_id) & (Typing.user_id == user_id))
        was_typing = row is not None and row.expires_ts > now
        if typing:
            timeout = DEFAULT_TIMEOUT_MS if timeout_ms is None else timeout_ms
            expires = now + max(0, min(timeout, MAX_TIMEOUT_MS))
            if was_typing:
                # Still typing: only the deadline moves; nobody needs to be told.
                Typing.update(expires_ts=expires).where(
                    (Typing.room_id == room_id) & (Typing.user_id == user_id)).execute()
                return
            _write(room_id, user_id, expires, exists=row is not None)
        elif was_typing:
            _write(room_id, user_id, 0, exists=True)


def _write(room_id: str, user_id: str, expires: int, *, exists: bool) -> None:
    position = next_position(rooms=[room_id])
    if exists:
        Typing.update(expires_ts=expires, stream_id=position).where(
            (Typing.room_id == room_id) & (Typing.user_id == user_id)).execute()
    else:
        Typing.insert(room_id=room_id, user_id=user_id, expires_ts=expires,
                      stream_id=position).execute()


def expire_due() -> int:
    """Mark typing that ran out as stopped, under one new position. Returns how many."""
    now = clock.now_ms()
    due = (Typing.select(Typing.room_id, Typing.user_id)
           .where((Typing.expires_ts > 0) & (Typing.expires_ts <= now)).tuples())
    due = list(due)
    if not due:
        return 0
    with write_transaction():
        rooms = sorted({room_id for room_id, _ in due})
        position = next_position(rooms=rooms)
        # Only the rooms the position names: a sync answered from the hints would not see
        # another room's row change.
        return Typing.update(expires_ts=0, stream_id=position).where(
            (Typing.expires_ts > 0) & (Typing.expires_ts <= now)
            & Typing.room_id.in_(rooms)).execute()


def typing_events(room_ids: list[str], *, since: int | None, upto: int,
                  hide: set[str] = frozenset()) -> dict[str, dict]:
    """room_id -> the m.typing event, for rooms whose typing changed in (since, upto] (rooms
    where someone types, when ``since`` is None). ``hide``: users not to list (ignored)."""
    if not room_ids:
        return {}
    now = clock.now_ms()
    if since is None:
        changed = {room_id for (room_id,) in Typing.select(Typing.room_id).where(
            Typing.room_id.in_(room_ids) & (Typing.expires_ts > now)
            & (Typing.stream_id <= upto)).distinct().tuples()}
    else:
        changed = {room_id for (room_id,) in Typing.select(Typing.room_id).where(
            Typing.room_id.in_(room_ids) & (Typing.stream_id > since)
            & (Typing.stream_id <= upto)).distinct().tuples()}
    if not changed:
        return {}
    typing: dict[str, list[str]] = {room_id: [] for room_id in changed}
    for room_id, user_id in (Typing.select(Typing.room_id, Typing.user_id)
                             .where(Typing.room_id.in_(sorted(changed))
                                    & (Typing.expires_ts > now) & (Typing.stream_id <= upto))
                             .order_by(Typing.stream_id).tuples()):
        if user_id not in hide:
            typing[room_id].append(user_id)
    return {room_id: {"type": "m.typing", "content": {"user_ids": users}}
            for room_id, users in typing.items()}
