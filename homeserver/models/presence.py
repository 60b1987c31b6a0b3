"""Presence of local users."""

import peewee

from ..db import BaseModel


class Presence(BaseModel):
    """A user's presence as last written; readers derive idle and offline from the times.

    ``last_active_ts``: the last pro-active action (a message, setting online). ``last_seen_ts``:
    the last sign the user is connected (a /sync, a presence update, a message).
    ``stream_id``: the position of the last change others should be told about.
    """

    user_id = peewee.CharField(primary_key=True, max_length=255)
    state = peewee.CharField(max_length=16)
    status_msg = peewee.TextField(null=True)
    last_active_ts = peewee.BigIntegerField()
    last_seen_ts = peewee.BigIntegerField()
    stream_id = peewee.BigIntegerField(index=True)
