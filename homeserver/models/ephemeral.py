"""Typing notifications and read receipts: room EDUs, stored so every process sees them."""

import peewee

from ..db import BaseModel


class Typing(BaseModel):
    """Whether a user is typing in a room: typing until ``expires_ts``; 0 once stopped.

    ``stream_id`` is the position of the last change (start, stop or expiry), so an
    incremental sync sends the room's typing list again when it changed.
    """

    room_id = peewee.CharField(max_length=255)
    user_id = peewee.CharField(max_length=255)
    expires_ts = peewee.BigIntegerField(index=True)
    stream_id = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("room_id", "user_id")
        indexes = ((("room_id", "stream_id"), False),)


class Receipt(BaseModel):
    """A user's receipt of one type in a room, per thread (``thread_key`` "" = unthreaded)."""

    room_id = peewee.CharField(max_length=255)
    user_id = peewee.CharField(max_length=255)
    receipt_type = peewee.CharField(max_length=64)
    thread_key = peewee.CharField(max_length=255)
    event_id = peewee.CharField(max_length=255)
    # The stream position of the event the receipt points at.
    event_stream_ordering = peewee.BigIntegerField()
    ts = peewee.BigIntegerField()
    # The stream position of the receipt itself.
    stream_id = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("room_id", "user_id", "receipt_type", "thread_key")
        indexes = ((("room_id", "stream_id"), False),)
