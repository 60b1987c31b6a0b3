"""Database helpers shared by test modules."""

import peewee


def release_connections(database: peewee.Database) -> None:
    """Close this thread's connection and the idle ones, but never a connection another thread
    is using: the server's background threads (stream listener, typing/presence sweep, push
    sender) may be mid-query, and closing a SQLite connection under them crashes the process."""
    database.close()
    database.close_idle()
