"""Rooms deactivated accounts must still leave (services/deactivation.py)."""

from ..models.deactivation import PendingLeave


def up(db):
    db.create_tables([PendingLeave])
