"""Online, consistent backups of a SQLite database (``homeserver backup PATH``).

sqlite3's backup API copies the database page by page while the server keeps running; a
write made meanwhile restarts the copy of what changed, so the file written is the database
as of one moment (WAL included). It is written next to PATH and renamed into place, so PATH
is either absent or a whole backup. PostgreSQL databases are backed up with pg_dump instead.
"""

from __future__ import annotations

import os
import sqlite3

from . import db

PG_DUMP_ADVICE = ("The database is PostgreSQL: back it up with pg_dump, e.g.\n"
                  "  pg_dump --format=custom --file=homeserver.dump DBNAME\n"
                  "and restore into an empty database with\n"
                  "  pg_restore --dbname=DBNAME homeserver.dump")
# Pages copied per step; between steps the server's writers get the database.
PAGES_PER_STEP = 1024


class BackupRefused(Exception):
    pass


def sqlite_path(url: str) -> str:
    return url[len("sqlite:///"):] if url.startswith("sqlite:///") else url


def backup(database_url: str, destination: str) -> int:
    """Copy the live database to ``destination`` (which must not exist); returns its size."""
    if db.is_postgres(database_url):
        raise BackupRefused(PG_DUMP_ADVICE)
    source_path = sqlite_path(database_url)
    if not os.path.exists(source_path):
        raise BackupRefused(f"no database at {source_path}")
    if os.path.exists(destination):
        raise BackupRefused(f"{destination} already exists")
    partial = destination + ".partial"
    source = sqlite3.connect(source_path)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target, pages=PAGES_PER_STEP)
            # A self-contained file: the copy's own WAL folded in.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise
    finally:
        source.close()
    os.replace(partial, destination)
    return os.path.getsize(destination)
