"""Serializing one user's writes that check a per-user total before adding to it.

Under PostgreSQL's READ COMMITTED two transactions can both count a user's rows (pending
uploads, bytes stored, tags of a room), both see room for one more, and both add one: the cap
is exceeded, or a read-modify-write loses the other's change. ``lock_user`` takes the user's
account row ``FOR UPDATE`` so such transactions of one user run one after the other; SQLite's
writer lock (``BEGIN IMMEDIATE`` in ``db.write_transaction``) already serializes them.
Call it first thing inside ``write_transaction()``.
"""

from __future__ import annotations

import peewee

from ..db import database
from ..models.users import User


def lock_user(user_id: str) -> None:
    """Hold the user's row lock until the end of the current transaction (PostgreSQL)."""
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        User.select(User.user_id).where(User.user_id == user_id).for_update().execute()
