"""A user's devices: listing, renaming, creating at login, and deleting.

Deleting a device happens in exactly one place, ``delete_devices``: it revokes the device's
tokens, removes its end-to-end keys and pending to-device messages, and announces the change
of the user's device list.
"""

from __future__ import annotations

from ... import clock, db, errors
from ...models.keys import CrossSigningKey
from ...models.users import Device
from .. import client_secrets
from ..e2ee import device_lists
from ..policy import txn_ids
from ..push import pushers
from ..sliding_sync import connections as sliding_sync_connections
from . import access_tokens

MAX_DEVICE_ID_LENGTH = 255
# IDs per IN (...) query, well under the database's limit on bound parameters.
_CHUNK = 500


def _to_dict(device: Device) -> dict:
    out = {"device_id": device.device_id}
    if device.display_name is not None:
        out["display_name"] = device.display_name
    if device.last_seen_ip is not None:
        out["last_seen_ip"] = device.last_seen_ip
    if device.last_seen_ts is not None:
        out["last_seen_ts"] = device.last_seen_ts
    return out


def list_devices(user_id: str) -> list[dict]:
    query = Device.select().where(Device.user == user_id).order_by(Device.created_ts,
                                                                   Device.device_id)
    return [_to_dict(device) for device in query]


def _get(user_id: str, device_id: str) -> Device | None:
    return Device.get_or_none((Device.user == user_id) & (Device.device_id == device_id))


def get_device(user_id: str, device_id: str) -> dict:
    """One of the user's own devices (another user's device is simply not found)."""
    device = _get(user_id, device_id)
    if device is None:
        raise errors.NotFound("Unknown device")
    return _to_dict(device)


def update_device(user_id: str, device_id: str, changes: dict) -> None:
    """Apply ``{"display_name": ...}`` when given (null clears the name)."""
    with db.write_transaction():
        if _get(user_id, device_id) is None:
            raise errors.NotFound("Unknown device")
        if "display_name" in changes:
            (Device.update(display_name=changes["display_name"])
             .where((Device.user == user_id) & (Device.device_id == device_id))
             .execute())
            # Other users see device names in /keys/query: their copies are now stale.
            device_lists.mark_changed(user_id)


def validate_device_id(device_id: str) -> None:
    if not device_id or len(device_id) > MAX_DEVICE_ID_LENGTH:
        raise errors.InvalidParam(
            f"device_id must be between 1 and {MAX_DEVICE_ID_LENGTH} characters")


def check_login_device_id(user_id: str, device_id: str) -> None:
    """A device ID a client asks for at login: valid, and not one of the user's cross-signing
    public keys (key IDs of both live in one namespace: the spec answers 403 M_FORBIDDEN)."""
    validate_device_id(device_id)
    clash = CrossSigningKey.select().where((CrossSigningKey.user_id == user_id)
                                           & (CrossSigningKey.public_key == device_id)).exists()
    if clash:
        raise errors.Forbidden("This device ID is the ID of one of your cross-signing keys")


def new_device_id(user_id: str) -> str:
    while True:
        device_id = client_secrets.random_id(10)
        if _get(user_id, device_id) is None:
            return device_id


def ensure_device(user_id: str, device_id: str, display_name: str | None,
                  ip: str | None = None) -> bool:
    """Create the device unless it exists (its name is then left alone); True if created.

    Logging in counts as the device being seen from ``ip``.

    When a client names an existing device, the tokens it had are revoked: the spec's
    "the server will invalidate any access and refresh tokens previously assigned to that
    device". Call inside a write transaction.
    """
    now = clock.now_ms()
    if _get(user_id, device_id) is not None:
        access_tokens.revoke_device_tokens(user_id, device_id)
        (Device.update(last_seen_ts=now, last_seen_ip=ip)
         .where((Device.user == user_id) & (Device.device_id == device_id)).execute())
        return False
    return create_device(user_id, device_id, display_name, seen_from=ip, seen_ts=now)


def create_device(user_id: str, device_id: str, display_name: str | None, *,
                  seen_from: str | None = None, seen_ts: int | None = None) -> bool:
    """Create the device unless it exists (then nothing changes); True if created. Call
    inside a write transaction."""
    if _get(user_id, device_id) is not None:
        return False
    Device.insert(user=user_id, device_id=device_id, display_name=display_name,
                  last_seen_ts=seen_ts, last_seen_ip=seen_from, created_ts=clock.now_ms()
                  ).execute()
    # As Synapse does: the user's device list changed, so users sharing a room with them (and
    # their own other devices) hear of it before the new device has uploaded keys.
    device_lists.mark_changed(user_id)
    return True


def delete_devices(user_id: str, device_ids: list[str] | None) -> list[str]:
    """Delete some (or, with None, all) of a user's devices and revoke their tokens.

    Unknown device IDs are ignored (deleting is idempotent). Returns the IDs that existed.
    Every device deletion (logout, device deletion, password change, deactivation) goes through
    here, so whatever else must go with a device belongs here too.
    """
    with db.write_transaction():
        base = Device.select(Device.device_id).where(Device.user == user_id)
        if device_ids is None:
            existing = [row.device_id for row in base]
        else:
            wanted = sorted(set(device_ids))
            existing = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                existing += [row.device_id for row in base.where(Device.device_id.in_(chunk))]
        for device_id in existing:
            access_tokens.revoke_device_tokens(user_id, device_id)
            device_lists.delete_device_keys(user_id, device_id)
            # Pushers belong to the session that set them up (spec: Push Notifications).
            pushers.remove_for_device(user_id, device_id)
            # A device ID created again later must not answer the old device's txnIds.
            txn_ids.delete_for_device(user_id, device_id)
            sliding_sync_connections.delete_for_device(user_id, device_id)
        for start in range(0, len(existing), _CHUNK):
            chunk = existing[start:start + _CHUNK]
            Device.delete().where((Device.user == user_id)
                                  & (Device.device_id.in_(chunk))).execute()
        if device_ids is None:
            access_tokens.revoke_all_tokens(user_id)
        return existing
