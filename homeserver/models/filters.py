"""Filters uploaded with POST /user/{userId}/filter."""

import peewee

from ..db import BaseModel


class Filter(BaseModel):
    # The filter ID handed out is str(id): digits only, so it never starts with "{".
    id = peewee.AutoField()
    user_id = peewee.CharField(max_length=255, index=True)
    # The filter as uploaded (validated), JSON text; served back as is.
    definition = peewee.TextField()
    created_ts = peewee.BigIntegerField()
