"""One consistent view of the database for a whole read: /sync builds, /messages, /context,
relations, threads, search, the hierarchy and room previews each read inside one."""

from __future__ import annotations

from contextlib import contextmanager

import peewee

from ...db import database


@contextmanager
def read_snapshot():
    """One consistent view of the database for the whole build: a read-only REPEATABLE READ
    transaction on PostgreSQL; on SQLite (WAL) a read transaction is already a snapshot."""
    db = database.obj
    with db.atomic():
        if isinstance(db, peewee.PostgresqlDatabase):
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
