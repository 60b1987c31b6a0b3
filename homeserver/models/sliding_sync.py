"""Tables of sliding sync (MSC4186): connections, the positions handed to them, and what each
position's response sent of each room (services/sliding_sync/connections.py)."""

import peewee

from ..db import BaseModel


class SlidingSyncConnection(BaseModel):
    """One sliding sync connection: a device's ``conn_id`` (the empty string when none)."""

    id = peewee.AutoField()
    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    conn_id = peewee.CharField(max_length=255)
    created_ts = peewee.BigIntegerField()
    last_used_ts = peewee.BigIntegerField()

    class Meta:
        indexes = ((("user_id", "device_id", "conn_id"), True),)


class SlidingSyncPosition(BaseModel):
    """A ``pos`` handed to a connection, ``<id>_<nonce>`` (SQLite may reuse the id of a deleted
    row: the nonce tells them apart); ``stream_position`` is the stream position its response
    was built at (the lower bound of the next incremental response)."""

    id = peewee.AutoField()
    nonce = peewee.CharField(max_length=32)
    connection = peewee.ForeignKeyField(SlidingSyncConnection, on_delete="CASCADE",
                                        index=True)
    stream_position = peewee.BigIntegerField()


class SlidingSyncRoom(BaseModel):
    """The response of position ``position`` sent room ``room_id`` up to stream position
    ``sent_upto`` with the room config ``config`` (JSON: timeline_limit and required_state).
    As of a pos P, a room's row is its row with the highest position <= P."""

    connection = peewee.ForeignKeyField(SlidingSyncConnection, on_delete="CASCADE")
    room_id = peewee.CharField(max_length=255)
    position = peewee.BigIntegerField()
    sent_upto = peewee.BigIntegerField()
    config = peewee.TextField()

    class Meta:
        primary_key = peewee.CompositeKey("connection", "room_id", "position")
        indexes = ((("connection", "position"), False),)
