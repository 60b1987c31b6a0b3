"""Device-list changes: who must re-fetch whose keys.

``mark_changed(user_id)`` records that a user's devices or cross-signing keys changed; call it
inside the transaction that makes the change (it takes a stream position, which also wakes
waiting syncs). Syncs and /keys/changes then report the user to everyone sharing a room with
them, together with users who started or stopped sharing a room with the syncing user.
"""

from __future__ import annotations

from ..models.keys import (DeviceKeys, DeviceListChange, FallbackKey, KeySignature,
                           OneTimeKey)
from ..models.to_device import ToDeviceMessage
from .streams import next_position


def mark_changed(user_id: str) -> int:
    """Record a change of ``user_id``'s device list (inside a write transaction)."""
    position = next_position()
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
