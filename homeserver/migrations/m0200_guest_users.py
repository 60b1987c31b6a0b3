"""User.is_guest: accounts registered with ``kind=guest`` (spec: Guest Access), indexed for the
idle-guest expiry sweep (services/guest_expiry.py)."""

import peewee

from ..db import add_column_if_missing


def up(db):
    add_column_if_missing(db, "user", "is_guest", peewee.BooleanField(default=False))
    db.execute_sql('CREATE INDEX IF NOT EXISTS user_is_guest ON "user" (is_guest)')
