"""Device-list changes: who must re-fetch whose keys.

``mark_changed(user_id)`` records that a user's devices or cross-signing keys changed; call it
inside the transaction that makes the change (it takes a stream position, which also wakes
waiting syncs). Syncs and /keys/changes then report the user to everyone sharing a room with
them, together with users who started or stopped sharing a room with the syncing user.
"""

from __future__ import annotations

from ...models.keys import (DeviceKeys, DeviceListChange, FallbackKey, KeySignature,
                            OneTimeKey)
from ...models.rooms import CurrentState, Event
from ...models.to_device import ToDeviceMessage
from ..event_types import MEMBER
from ..rooms.state import joined_rooms
from ..streams.positions import next_position

# IDs per IN (...) query, well under the databases' limits on bound parameters.
_CHUNK = 500


def mark_changed(user_id: str) -> int:
    """Record a change of ``user_id``'s device list (inside a write transaction)."""
    # Wakes the syncs of everyone sharing a room with the user, and the user's own devices
    # (the rooms as they are at this position: a join committing meanwhile counts).
    position = next_position(rooms=lambda: joined_rooms(user_id), users=[user_id])
    DeviceListChange.insert(user_id=user_id, stream_position=position).execute()
    return position


def delete_device_keys(user_id: str, device_id: str) -> None:
    """Remove what a deleted device leaves behind: its identity, one-time and fallback keys,
    signatures of and by it and its pending to-device messages; announce the change.

    Call inside the transaction that deletes the device.
    """
    DeviceKeys.delete().where((DeviceKeys.user_id == user_id)
                              & (DeviceKeys.device_id == device_id)).execute()
    OneTimeKey.delete().where((OneTimeKey.user_id == user_id)
                              & (OneTimeKey.device_id == device_id)).execute()
    FallbackKey.delete().where((FallbackKey.user_id == user_id)
                               & (FallbackKey.device_id == device_id)).execute()
    KeySignature.delete().where((KeySignature.target_user_id == user_id)
                                & (KeySignature.target_key_id == device_id)).execute()
    KeySignature.delete().where((KeySignature.signer_user_id == user_id)
                                & (KeySignature.signer_key_id == f"ed25519:{device_id}")).execute()
    ToDeviceMessage.delete().where((ToDeviceMessage.user_id == user_id)
                                   & (ToDeviceMessage.device_id == device_id)).execute()
    mark_changed(user_id)


def _joined_members(room_ids) -> set[str]:
    members: set[str] = set()
    room_ids = list(room_ids)
    for start in range(0, len(room_ids), _CHUNK):
        members.update(user_id for (user_id,) in
                       CurrentState.select(CurrentState.state_key)
                       .where((CurrentState.type == MEMBER) & (CurrentState.membership == "join")
                              & CurrentState.room_id.in_(room_ids[start:start + _CHUNK])).tuples())
    return members


def _sharing(user_ids: set[str], rooms: set[str]) -> set[str]:
    """Those of ``user_ids`` joined to at least one of ``rooms``."""
    found: set[str] = set()
    users, room_list = sorted(user_ids), sorted(rooms)
    if not users or not room_list:
        return found
    for start in range(0, len(users), _CHUNK):
        found.update(u for (u,) in
                     CurrentState.select(CurrentState.state_key).distinct()
                     .where((CurrentState.type == MEMBER) & (CurrentState.membership == "join")
                            & CurrentState.state_key.in_(users[start:start + _CHUNK])
                            & CurrentState.room_id.in_(room_list)).tuples())
    return found


def changes_between(user_id: str, since: int, upto: int,
                    joined: set[str] | None = None) -> tuple[list[str], list[str]]:
    """(changed, left) for ``user_id`` between two stream positions.

    changed: users sharing a room with ``user_id`` (``user_id`` included) whose devices or
    cross-signing keys changed in (since, upto], plus users who started sharing a room with
    them (a join on either side). left: users who no longer share any room with them after a
    leave, kick or ban on either side in (since, upto]. Work is driven by what happened in the
    interval, so a quiet sync costs three indexed queries whatever the size of the rooms.
    """
    my_rooms = set(joined_rooms(user_id)) if joined is None else set(joined)
    key_changes = {u for (u,) in DeviceListChange.select(DeviceListChange.user_id).distinct()
                   .where((DeviceListChange.stream_position > since)
                          & (DeviceListChange.stream_position <= upto)).tuples()}
    own_changes = list(Event.select(Event.room_id, Event.membership)
                       .where((Event.type == MEMBER) & (Event.state_key == user_id)
                              & (Event.stream_ordering > since) & (Event.stream_ordering <= upto))
                       .tuples())
    rooms_left = {room for room, _ in own_changes} - my_rooms
    rooms_joined = {room for room, membership in own_changes if membership == "join"} & my_rooms

    joined_candidates = _joined_members(rooms_joined) - {user_id}
    left_candidates = _joined_members(rooms_left)
    watched = sorted(my_rooms | rooms_left)
    for start in range(0, len(watched), _CHUNK):
        rows = (Event.select(Event.state_key, Event.membership)
                .where((Event.type == MEMBER) & Event.room_id.in_(watched[start:start + _CHUNK])
                       & (Event.stream_ordering > since) & (Event.stream_ordering <= upto))
                .tuples())
        for member, membership in rows:
            if membership == "join" and member != user_id:
                joined_candidates.add(member)
            elif membership in ("leave", "ban"):
                left_candidates.add(member)

    sharing = _sharing(key_changes | joined_candidates | left_candidates, my_rooms)
    if user_id in key_changes:
        sharing.add(user_id)
    changed = (key_changes | joined_candidates) & sharing
    left = left_candidates - sharing - {user_id}
    return sorted(changed), sorted(left)
