"""Work a deactivation leaves to do after its transaction (see
services/accounts/deactivation.py)."""

import peewee

from ..db import BaseModel


class PendingLeave(BaseModel):
    """A room a deactivated account must still leave (or whose invite or knock it must drop):
    written in the deactivation's transaction, deleted once the membership is "leave"."""

    user_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    attempts = peewee.IntegerField(default=0)
    # Due from this time; a sweeper working on the row pushes it forward first (its claim).
    next_attempt_ts = peewee.BigIntegerField(index=True)
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("user_id", "room_id")
