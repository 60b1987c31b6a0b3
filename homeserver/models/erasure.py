"""Accounts deactivated with ``erase: true`` (see services/accounts/erasure.py)."""

import peewee

from ..db import BaseModel


class ErasedUser(BaseModel):
    user_id = peewee.CharField(primary_key=True, max_length=255)
    # The stream position taken when the erasure was made: events at or before it were sent
    # before the erasure; memberships after it came after.
    stream_position = peewee.BigIntegerField()
    erased_ts = peewee.BigIntegerField()
