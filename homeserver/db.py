"""The database: a deferred peewee proxy, connection pooling, write transactions and migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys and a busy timeout; PostgreSQL
is selected by a ``postgresql://`` URL. Both go through the same models and migrations.

Write transactions use ``write_transaction()``: on SQLite it is ``BEGIN IMMEDIATE`` so the write
lock is taken up front (two readers upgrading to writers would otherwise deadlock).
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import time
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from . import migrations
from .errors import DatabaseBusy

logger = logging.getLogger(__name__)

database = peewee.DatabaseProxy()

SQLITE_BUSY_TIMEOUT_S = 30
# A request finding every pooled connection in use waits this long for one (instead of failing
# at once): a gunicorn worker runs far more threads than it keeps connections (long-polls hold
# a thread but no connection while they wait), so bursts must queue.
POOL_WAIT_S = 30


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(BaseModel):
    """One row per applied migration (the name of its module)."""

    version = peewee.IntegerField(primary_key=True)
    name = peewee.CharField()
    applied_ts = peewee.BigIntegerField()


class SchemaTooNew(Exception):
    pass


class SchemaOutdated(Exception):
    pass


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def make_database(url: str, pool_size: int = 20) -> peewee.Database:
    """A peewee database for a SQLite path (or sqlite:// URL) or a postgresql:// URL."""
    if is_postgres(url):
        parsed = urlparse(url)
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")) or "postgres",
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=POOL_WAIT_S,
            autoconnect=True,
        )
    path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else url
    if path != ":memory:":
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
    return PooledSqliteDatabase(
        path,
        max_connections=pool_size,
        stale_timeout=300,
        check_same_thread=False,
        # For the pool this is also how long to wait for a free connection (POOL_WAIT_S).
        timeout=SQLITE_BUSY_TIMEOUT_S,
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": SQLITE_BUSY_TIMEOUT_S * 1000,
            "synchronous": "normal",
        },
        autoconnect=True,
    )


def init_database(url: str, pool_size: int = 20) -> peewee.Database:
    db = make_database(url, pool_size)
    database.initialize(db)
    return db


@contextmanager
def write_transaction():
    """A transaction that will write: BEGIN IMMEDIATE on SQLite, a plain transaction otherwise.

    Nested use becomes a savepoint of the outer transaction.
    """
    db = database.obj
    try:
        if isinstance(db, peewee.SqliteDatabase) and not db.in_transaction():
            with db.atomic("IMMEDIATE") as txn:
                yield txn
        else:
            with db.atomic() as txn:
                yield txn
    except peewee.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusy() from exc
        raise


def now_ms() -> int:
    return int(time.time() * 1000)


# --- migrations ---------------------------------------------------------------------------------

def _migration_modules() -> list[tuple[int, str, object]]:
    """The ordered migrations: modules ``homeserver/migrations/NNNN_name.py`` with ``up(db)``."""
    found = []
    for info in pkgutil.iter_modules(migrations.__path__):
        number, _, _ = info.name.partition("_")
        if not (info.name.startswith("m") and number[1:].isdigit()):
            continue
        module = importlib.import_module(f"{migrations.__name__}.{info.name}")
        found.append((int(number[1:]), info.name, module))
    found.sort(key=lambda item: item[0])
    numbers = [n for n, _, _ in found]
    if len(set(numbers)) != len(numbers):
        raise RuntimeError(f"two migrations share a number: {numbers}")
    return found


def latest_schema_version() -> int:
    modules = _migration_modules()
    return modules[-1][0] if modules else 0


def current_schema_version() -> int:
    db = database.obj
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(peewee.fn.MAX(SchemaVersion.version)).scalar()
    return row or 0


def check_schema() -> None:
    """Refuse a database whose schema is newer than this code (a downgrade would corrupt it)."""
    have, know = current_schema_version(), latest_schema_version()
    if have > know:
        raise SchemaTooNew(
            f"the database schema is version {have} but this homeserver only knows up to "
            f"{know}: it was used by a newer release. Upgrade the homeserver, or restore a backup.")


def migrate() -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction. Returns their names."""
    db = database.obj
    check_schema()
    db.create_tables([SchemaVersion], safe=True)
    applied = {row.version for row in SchemaVersion.select(SchemaVersion.version)}
    done = []
    for number, name, module in _migration_modules():
        if number in applied:
            continue
        with write_transaction():
            module.up(db)
            SchemaVersion.create(version=number, name=name, applied_ts=now_ms())
        logger.info("applied migration %s", name)
        done.append(name)
    return done


def add_column_if_missing(db: peewee.Database, table: str, column: str,
                          field: peewee.Field) -> None:
    """For migrations that add a column to a table an earlier migration created.

    Earlier migrations create tables from the current models, so on a fresh database the column
    already exists; on an old database it is added.
    """
    from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate as run

    if column in {c.name for c in db.get_columns(table)}:
        return
    migrator = SqliteMigrator(db) if isinstance(db, peewee.SqliteDatabase) else PostgresqlMigrator(db)
    run(migrator.add_column(table, column, field))
