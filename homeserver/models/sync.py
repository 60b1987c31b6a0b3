"""Tables of the sync machinery: wake-up hints (SQLite) and lazy-loaded members sent to devices."""

import peewee

from ..db import BaseModel


class StreamWakeHint(BaseModel):
    """SQLite only: who a stream position concerns, so waiting syncs of other users stay asleep.

    PostgreSQL carries the same hint in the NOTIFY payload instead. Rows are pruned by
    ``services.streams.positions`` once well behind the newest position. ``rooms`` and ``users`` are
    JSON lists; a position without a row concerns everyone.
    """

    position = peewee.BigIntegerField(primary_key=True)
    rooms = peewee.TextField()
    users = peewee.TextField()


class LazyLoadedMember(BaseModel):
    """A membership event a device was sent by a lazy-loading /sync (for redundancy checks).

    ``sent_position`` is the next_batch of the response that carried it: a sync from ``since``
    trusts only rows with sent_position <= since (the client has those responses); rows above
    belong to responses the client never received and are dropped.
    """

    user_id = peewee.CharField(max_length=255)
    device_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    member = peewee.CharField(max_length=255)
    event_id = peewee.CharField(max_length=255)
    sent_position = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "device_id", "room_id", "member")
