"""Rooms a user has forgotten (POST /rooms/{roomId}/forget), and the event columns that feed
``unsigned`` (replaces_state, sender_device, txn_id) on databases made before they existed."""

from ..db import add_column_if_missing
from ..models.rooms import Event, ForgottenRoom


def up(db):
    db.create_tables([ForgottenRoom], safe=True)
    for name in ("replaces_state", "sender_device", "txn_id"):
        add_column_if_missing(db, Event._meta.table_name, name, Event._meta.fields[name])
