"""Rooms and their events.

One server owns every room it hosts, so each room's history is a line: events of a room are
appended one at a time under the room's write lock, ``depth`` counts up by one, and
``stream_ordering`` (the global stream position, see services/streams/positions.py) orders
everything a client syncs. The state at any point p of a room is, for each (type, state_key), the
latest state event with stream_ordering <= p: no state copies are stored per event.
"""

import peewee

from ..db import BaseModel


class Room(BaseModel):
    room_id = peewee.CharField(primary_key=True, max_length=255)
    room_version = peewee.CharField(max_length=32)
    creator = peewee.CharField(max_length=255)
    # Published in the public room directory (POST /createRoom visibility, PUT /directory/list).
    is_public = peewee.BooleanField(default=False)
    # The last event appended (the next event's prev_events) and its depth.
    latest_event_id = peewee.CharField(null=True, max_length=255)
    latest_depth = peewee.BigIntegerField(default=0)
    created_ts = peewee.BigIntegerField()
    # Kept by the event writer from the current state (m0150), so that the room directory and
    # the user directory select rooms with indexed queries instead of reading every room's state:
    # content.join_rule / content.history_visibility of the current state events (null when
    # absent or not a string), and the number of joined members.
    join_rule = peewee.CharField(null=True, max_length=64)
    history_visibility = peewee.CharField(null=True, max_length=64)
    joined_members = peewee.IntegerField(default=0)
    # The position of the latest event of a bumping type (services.event_types.BUMP_EVENT_TYPES),
    # kept by the event writer (m0280): how sliding sync orders a user's rooms.
    bump_stamp = peewee.BigIntegerField(null=True)
    # Also kept from the current state (m0260), for the admin room list: guest_access and the
    # encryption algorithm (null when absent or not a short string), and the name and
    # canonical alias cut to 255 characters (the state event holds the whole value).
    guest_access = peewee.CharField(null=True, max_length=64)
    encryption = peewee.CharField(null=True, max_length=64)
    name = peewee.CharField(null=True, max_length=255)
    canonical_alias = peewee.CharField(null=True, max_length=255)


class Event(BaseModel):
    """Every stored event of every room, as the PDU JSON the room version defines."""

    stream_ordering = peewee.BigIntegerField(unique=True)
    event_id = peewee.CharField(unique=True, max_length=255)
    room = peewee.ForeignKeyField(Room, column_name="room_id", on_delete="CASCADE")
    depth = peewee.BigIntegerField()
    type = peewee.CharField(max_length=255)
    # null for non-state events.
    state_key = peewee.CharField(null=True, max_length=255)
    sender = peewee.CharField(max_length=255)
    origin_server_ts = peewee.BigIntegerField()
    # For m.room.member events: content.membership (join, invite, leave, ban, knock).
    membership = peewee.CharField(null=True, max_length=16)
    # The full event JSON (PDU format of the room version), redacted in place when redacted.
    json = peewee.TextField()
    # The event ID of the m.room.redaction that redacted this event, if any.
    redacted_by = peewee.CharField(null=True, max_length=255)
    # Relations (m.relates_to) indexed for /relations, threads and edits.
    relates_to_id = peewee.CharField(null=True, max_length=255, index=True)
    relation_type = peewee.CharField(null=True, max_length=64)
    # State events: the event ID of the state event this one replaced at the same
    # (type, state_key), if any (unsigned.replaces_state and prev_content).
    replaces_state = peewee.CharField(null=True, max_length=255)
    # The device and transaction ID the event was sent with (unsigned.transaction_id is shown
    # to that device only); null for events the server made on its own.
    sender_device = peewee.CharField(null=True, max_length=255)
    txn_id = peewee.CharField(null=True, max_length=255)

    class Meta:
        indexes = (
            (("room", "stream_ordering"), False),
            (("room", "depth"), False),
            (("room", "type", "state_key", "stream_ordering"), False),
            (("state_key", "type", "stream_ordering"), False),
        )


class CurrentState(BaseModel):
    """The current state of each room: (room, type, state_key) -> the state event in force."""

    room = peewee.ForeignKeyField(Room, column_name="room_id", on_delete="CASCADE")
    type = peewee.CharField(max_length=255)
    state_key = peewee.CharField(max_length=255)
    event_id = peewee.CharField(max_length=255)
    stream_ordering = peewee.BigIntegerField()
    # For m.room.member rows: the membership, so "rooms of a user" is one indexed query.
    membership = peewee.CharField(null=True, max_length=16)

    class Meta:
        primary_key = peewee.CompositeKey("room", "type", "state_key")
        indexes = ((("state_key", "type", "membership"), False),)


class EventTransaction(BaseModel):
    """Idempotency of PUTs with a txnId: (user, device, endpoint, txn_id) -> the first result."""

    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    # The endpoint and the path parameters before the txnId (e.g. "send <room> <type>"): the
    # spec scopes a txnId to one device and one request path.
    endpoint = peewee.CharField(max_length=600)
    txn_id = peewee.CharField(max_length=255)
    # The result to repeat (e.g. the event ID of the first send), as JSON text.
    result = peewee.TextField()
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "device_id", "endpoint", "txn_id")


class RoomAlias(BaseModel):
    """Local room aliases (PUT /directory/room, createRoom's room_alias_name)."""

    alias = peewee.CharField(primary_key=True, max_length=255)
    room = peewee.ForeignKeyField(Room, column_name="room_id", on_delete="CASCADE")
    creator = peewee.CharField(max_length=255)
    created_ts = peewee.BigIntegerField()


class ForgottenRoom(BaseModel):
    """Rooms a user forgot (POST /forget) after leaving; cleared when they join, are invited or
    knock again. /sync never shows a forgotten room."""

    user_id = peewee.CharField(max_length=255)
    room = peewee.ForeignKeyField(Room, column_name="room_id", on_delete="CASCADE")

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "room")
