"""Pagination of GET /hierarchy: where a walk of a space tree stopped, so the next page (which
may reach another worker) continues it. Rows expire after a while."""

import peewee

from ..db import BaseModel


class HierarchyPage(BaseModel):
    token = peewee.CharField(primary_key=True, max_length=64)
    user_id = peewee.CharField(max_length=255)
    room_id = peewee.CharField(max_length=255)
    suggested_only = peewee.BooleanField()
    max_depth = peewee.IntegerField()
    # JSON {"stack": [[room_id, depth], ...], "seen": [room_id, ...]}: the rooms still to
    # visit, and those already listed (each room is listed once, which also breaks loops).
    walk = peewee.TextField()
    created_ts = peewee.BigIntegerField(index=True)
