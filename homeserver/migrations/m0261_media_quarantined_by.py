"""Media.quarantined_by: the admin who quarantined an item (Synapse's admin API reports it)."""

import peewee

from ..db import add_column_if_missing


def up(db):
    add_column_if_missing(db, "media", "quarantined_by", peewee.CharField(null=True, max_length=255))
