"""Sliding sync (MSC4186): Room.bump_stamp, kept by the event writer and filled here from the
existing events, and the connection tables (models/sliding_sync.py)."""

import peewee

from ..db import add_column_if_missing
from ..models.sliding_sync import SlidingSyncConnection, SlidingSyncPosition, SlidingSyncRoom

BUMP_EVENT_TYPES = ("m.room.create", "m.room.message", "m.room.encrypted", "m.sticker",
                    "m.call.invite", "m.poll.start", "m.beacon_info")


def up(db):
    add_column_if_missing(db, "room", "bump_stamp", peewee.BigIntegerField(null=True))
    marks = ", ".join([db.param] * len(BUMP_EVENT_TYPES))
    db.execute_sql(
        f"UPDATE room SET bump_stamp = (SELECT MAX(e.stream_ordering) FROM event e "
        f"WHERE e.room_id = room.room_id AND e.type IN ({marks}))", BUMP_EVENT_TYPES)
    db.create_tables([SlidingSyncConnection, SlidingSyncPosition, SlidingSyncRoom])
