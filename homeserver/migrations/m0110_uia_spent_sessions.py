"""UIA sessions stay after their operation ran, so a retry gets its result (spent_ts, outcome)."""

import peewee

from ..db import add_column_if_missing


def up(db):
    add_column_if_missing(db, "uia_session", "spent_ts", peewee.BigIntegerField(null=True))
    add_column_if_missing(db, "uia_session", "outcome", peewee.TextField(null=True))
