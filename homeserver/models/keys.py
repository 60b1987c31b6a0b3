"""End-to-end encryption keys: device keys, one-time and fallback keys, cross-signing keys,
signatures, device-list changes and server-side key backups.

Key objects are stored as the JSON the client uploaded (without ``unsigned``); signatures added
later through /keys/signatures/upload live in ``KeySignature`` so that who may see them can be
decided per requester.
"""

import peewee

from ..db import BaseModel


class DeviceKeys(BaseModel):
    """The identity keys of one device (the signed object from /keys/upload)."""

    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    key_json = peewee.TextField()
    updated_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "device_id")


class OneTimeKey(BaseModel):
    """A one-time key. Claimed keys are kept (``claimed``) so that a key ID is never reused
    with other content; they go when the device does."""

    id = peewee.BigAutoField()
    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    algorithm = peewee.CharField(max_length=128)
    key_id = peewee.CharField(max_length=255)
    key_json = peewee.TextField()
    claimed = peewee.BooleanField(default=False)
    created_ts = peewee.BigIntegerField()

    class Meta:
        indexes = (
            (("user_id", "device_id", "algorithm", "key_id"), True),
            # Claiming takes the oldest unclaimed key of a device and algorithm.
            (("user_id", "device_id", "algorithm", "claimed", "id"), False),
        )


class FallbackKey(BaseModel):
    """At most one fallback key per device and algorithm; ``used`` once handed out by a claim."""

    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    algorithm = peewee.CharField(max_length=128)
    key_id = peewee.CharField(max_length=255)
    key_json = peewee.TextField()
    used = peewee.BooleanField(default=False)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "device_id", "algorithm")


class CrossSigningKey(BaseModel):
    """A user's master, self-signing or user-signing key (the object uploaded)."""

    user_id = peewee.CharField(max_length=255)
    key_type = peewee.CharField(max_length=32)  # master | self_signing | user_signing
    public_key = peewee.CharField(max_length=255)
    key_json = peewee.TextField()
    updated_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "key_type")


class KeySignature(BaseModel):
    """A signature uploaded through /keys/signatures/upload.

    The target is a device (``target_key_id`` = device ID) or a cross-signing key
    (``target_key_id`` = its unpadded-base64 public key) of ``target_user_id``.
    """

    target_user_id = peewee.CharField(max_length=255)
    target_key_id = peewee.CharField(max_length=255)
    signer_user_id = peewee.CharField(max_length=255)
    signer_key_id = peewee.CharField(max_length=255)  # e.g. "ed25519:<public key or device>"
    signature = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("target_user_id", "target_key_id", "signer_user_id",
                                          "signer_key_id")


class DeviceListChange(BaseModel):
    """A user's devices or cross-signing keys changed at this stream position."""

    id = peewee.BigAutoField()
    user_id = peewee.CharField(max_length=255)
    stream_position = peewee.BigIntegerField(index=True)

    class Meta:
        indexes = ((("user_id", "stream_position"), False),)


class RoomKeysVersion(BaseModel):
    """A server-side key backup; its ``id`` is the version string clients see."""

    id = peewee.BigAutoField()
    user_id = peewee.CharField(max_length=255, index=True)
    algorithm = peewee.CharField(max_length=255)
    auth_data = peewee.TextField()
    # Bumped on every change of the stored keys; clients compare it to notice other writers.
    etag = peewee.BigIntegerField(default=0)
    deleted = peewee.BooleanField(default=False)
    created_ts = peewee.BigIntegerField()


class BackedUpRoomKey(BaseModel):
    version = peewee.ForeignKeyField(RoomKeysVersion, column_name="version_id",
                                     on_delete="CASCADE")
    room_id = peewee.CharField(max_length=255)
    session_id = peewee.CharField(max_length=255)
    first_message_index = peewee.BigIntegerField()
    forwarded_count = peewee.BigIntegerField()
    is_verified = peewee.BooleanField()
    session_data = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("version", "room_id", "session_id")
