"""Device.last_seen_user_agent: the User-Agent of the device's last request (admin whois)."""

import peewee

from ..db import add_column_if_missing


def up(db):
    add_column_if_missing(db, "device", "last_seen_user_agent",
                          peewee.CharField(null=True, max_length=512))
