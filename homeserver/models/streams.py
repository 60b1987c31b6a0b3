"""The one stream position that orders everything a client syncs."""

import peewee

from ..db import BaseModel


class StreamCounter(BaseModel):
    """A single row; incremented inside writing transactions so commit order = position order."""

    id = peewee.IntegerField(primary_key=True)
    position = peewee.BigIntegerField()
