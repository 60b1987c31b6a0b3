"""One consistent view of the database for a whole read: /sync builds, /messages, /context,
relations, threads, search, the hierarchy and room previews each read inside one."""

from __future__ import annotations

from contextlib import contextmanager

import peewee

from ...db import database

# PostgreSQL: the snapshot's mode goes with its BEGIN (one round trip, not BEGIN then SET).
_POSTGRES_SNAPSHOT = "REPEATABLE READ, READ ONLY"


@contextmanager
def read_snapshot():
    """One consistent view of the database for the whole build: a read-only REPEATABLE READ
    transaction on PostgreSQL; on SQLite (WAL) a read transaction is already a snapshot."""
    db = database.obj
    if isinstance(db, peewee.PostgresqlDatabase) and db.transaction_depth() == 0:
        with db.atomic(isolation_level=_POSTGRES_SNAPSHOT):
            yield
        return
    with db.atomic():
        yield
