"""Reports of inappropriate content (spec module "Reporting Content"), kept for the server's
administrators: one row per report of an event, a room or a user."""

import peewee

from ..db import BaseModel


class Report(BaseModel):
    # "event", "room" or "user".
    kind = peewee.CharField(max_length=8)
    reporter = peewee.CharField(max_length=255, index=True)
    room_id = peewee.CharField(null=True, max_length=255, index=True)
    event_id = peewee.CharField(null=True, max_length=255)
    # For user reports: the reported user; for event reports: the event's sender.
    target_user_id = peewee.CharField(null=True, max_length=255, index=True)
    reason = peewee.TextField(null=True)
    received_ts = peewee.BigIntegerField(index=True)
