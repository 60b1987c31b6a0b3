"""Per-user account data (global and per room) and the ignored-users index derived from it."""

import peewee

from ..db import BaseModel

# room_id of global account data rows (room account data carries the room's ID).
GLOBAL = ""


class AccountData(BaseModel):
    """The latest content of one account data type, for a user, globally or in one room.

    ``stream_id`` is the stream position of the last write, so a sync since p returns the rows
    with stream_id > p.
    """

    user_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255, default=GLOBAL)
    type = peewee.CharField(max_length=255)
    content = peewee.TextField()
    stream_id = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "room_id", "type")
        indexes = ((("user_id", "stream_id"), False),)


class IgnoredUser(BaseModel):
    """``user_id`` ignores ``ignored_user_id`` (from their m.ignored_user_list account data).

    Kept as rows so "who in this room ignores the sender" is one indexed query.
    """

    user_id = peewee.CharField(max_length=255)
    ignored_user_id = peewee.CharField(max_length=255, index=True)

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "ignored_user_id")
