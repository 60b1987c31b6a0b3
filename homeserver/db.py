"""The database: a deferred peewee proxy, connection pooling, write transactions and migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys and a busy timeout; PostgreSQL
is selected by a ``postgresql://`` URL. Both go through the same models and migrations.

Write transactions use ``write_transaction()``: on SQLite it is ``BEGIN IMMEDIATE`` so the write
lock is taken up front (two readers upgrading to writers would otherwise deadlock), after the
writer queue (``WriterQueue``): SQLite's own wait for its lock is a busy handler that sleeps
1, 2, 5 ... 100 ms between tries, so under contention a writer slept through the moments the
lock was free while newcomers took it (send p99 40x its p50). The queue makes writers wait
their turn instead, woken the moment the one ahead commits.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import pkgutil
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from . import clock, migrations
from .errors import DatabaseBusy

logger = logging.getLogger(__name__)

database = peewee.DatabaseProxy()

SQLITE_BUSY_TIMEOUT_S = 30
# A request finding every pooled connection in use waits this long for one (instead of failing
# at once): a gunicorn worker runs far more threads than it keeps connections (long-polls hold
# a thread but no connection while they wait), so bursts must queue.
POOL_WAIT_S = 30
# A PostgreSQL connection idle in the pool longer than this is probed (a round trip) before use.
POOL_PROBE_AFTER_S = 5.0


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


class PostgresDatabase(PooledPostgresqlDatabase):
    """PostgreSQL with fewer round trips per transaction: ``BEGIN`` goes out with the
    transaction's first statement (peewee would send it alone), and ``StatementBatch.run(
    commit=True)`` may send ``COMMIT`` with a transaction's last writes, after which peewee's
    own commit has nothing left to send. A transaction that executed nothing sends nothing.

    A pooled connection is checked out without a round trip when it came back to the pool
    moments ago (``_is_closed``)."""

    def __init__(self, *args, **kwargs):
        # When each pooled connection last came back to the pool (by id; read and changed
        # under the pool's lock, which the methods below run in).
        self._returned_at: dict[int, float] = {}
        super().__init__(*args, **kwargs)

    def _is_closed(self, conn) -> bool:
        # peewee sends ``SELECT 1`` on every checkout to find connections the server dropped,
        # holding the pool's lock and the database's (which every connect and close of the
        # process takes): under load, each worker's checkouts and returns queued one round
        # trip at a time, and requests waited past the pool's timeout (docs/performance.md,
        # "Idle long-polls"). A connection returned within POOL_PROBE_AFTER_S was working
        # then: only its local status is read. A dead one fails its request once and is
        # discarded when it is returned.
        returned_at = self._returned_at.get(id(conn))
        if (returned_at is not None and not conn.closed
                and time.monotonic() - returned_at < POOL_PROBE_AFTER_S):
            return False
        closed = super()._is_closed(conn)
        if closed:
            self._returned_at.pop(id(conn), None)
        return closed

    def _can_reuse(self, conn) -> bool:
        reusable = super()._can_reuse(conn)
        if reusable:
            self._returned_at[id(conn)] = time.monotonic()
        return reusable

    def _close_raw(self, conn):
        self._returned_at.pop(id(conn), None)
        return super()._close_raw(conn)

    def begin(self, isolation_level=None):
        level = isolation_level or self._isolation_level
        if self.is_closed():
            # Now, as peewee's BEGIN would: connecting later (at the first statement) would
            # reset the thread's connection state, the open transaction included.
            self.connect()
        # The statement peewee would send, kept for the first one (a read snapshot's mode
        # included).
        self._state.begin_pending = (
            f"BEGIN TRANSACTION ISOLATION LEVEL {self._adapter.isolation_level_str(level)}"
            if level else "BEGIN")
        self._state.committed = False

    def execute_sql(self, sql, params=None):
        begin = getattr(self._state, "begin_pending", False)
        if begin:
            self._state.begin_pending = False
            sql = begin + ";\n" + sql
        return super().execute_sql(sql, params)

    def _nothing_to_end(self) -> bool:
        pending = getattr(self._state, "begin_pending", False)
        committed = getattr(self._state, "committed", False)
        self._state.begin_pending = self._state.committed = False
        return pending or committed

    def commit(self):
        if not self._nothing_to_end():
            super().commit()

    def rollback(self):
        if not self._nothing_to_end():
            super().rollback()

    def close(self):
        self._state.begin_pending = self._state.committed = False
        return super().close()

    def execute_and_commit(self, sql: str, params) -> None:
        """Run ``sql`` and commit the outermost transaction in the same round trip (its
        context then ends without sending anything)."""
        assert self.transaction_depth() == 1
        self.execute_sql(sql + ";\nCOMMIT", params)
        self._state.committed = True


def make_database(url: str, pool_size: int = 20) -> peewee.Database:
    """A peewee database for a SQLite path (or sqlite:// URL) or a postgresql:// URL."""
    if is_postgres(url):
        parsed = urlparse(url)
        return PostgresDatabase(
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
            # Checkpoints run after a writer's turn (write_transaction), not in the commit that
            # crosses 1,000 pages: that one held every queued writer up for its fsyncs.
            "wal_autocheckpoint": 0,
        },
        autoconnect=True,
    )


class _TurnLock:
    """A lock handed to its waiters in the order they came (``threading.Lock`` lets a
    newcomer overtake threads that have waited longer)."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in self._waiting:
                self._waiting.remove(turn)
                return False
        return True  # handed over just as the wait ended: ours now

    def try_acquire(self) -> bool:
        """Take the lock only if it is free and nobody waits for it."""
        with self._mutex:
            if self._held:
                return False
            self._held = True
            return True

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()  # the lock passes on, still held
            else:
                self._held = False


class WriterQueue:
    """SQLite writers of one database file take turns: first among this process's threads
    (``_TurnLock``), then among the host's processes (``flock`` on ``<database>-writer.lock``,
    which the kernel grants the moment its holder lets go, and releases if the holder dies)."""

    def __init__(self, path: str):
        self.path = None if path == ":memory:" else os.path.abspath(path) + "-writer.lock"
        self._threads = _TurnLock()
        self._fd: int | None = None
        self._pid = os.getpid()

    def _lock_file(self) -> int | None:
        if self.path is None:
            return None
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._fd

    @contextmanager
    def turn(self, timeout: float, before_waiting: Callable[[], None] = lambda: None):
        """Hold the turn to write; DatabaseBusy after ``timeout`` seconds in this process's
        queue. The wait across processes is bounded by the writer ahead (a gunicorn worker
        stuck past its timeout is killed, which frees its lock). ``before_waiting`` runs once
        when the turn is not free at once (to let go of what a waiting thread need not hold)."""
        waited = False
        if not self._threads.try_acquire():
            before_waiting()
            waited = True
            if not self._threads.acquire(timeout):
                raise DatabaseBusy()
        try:
            fd = self._lock_file()
            if fd is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    if not waited:
                        before_waiting()
                    fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_writer_queues: dict[str, WriterQueue] = {}
_writer_queues_lock = threading.Lock()


def writer_queue(db: peewee.SqliteDatabase) -> WriterQueue:
    """The writer queue of this SQLite database file in this process (one per file, however
    many database objects open it; a forked child starts its own)."""
    key = db.database if db.database == ":memory:" else os.path.abspath(db.database)
    with _writer_queues_lock:
        queue = _writer_queues.get(key)
        if queue is None or queue._pid != os.getpid():
            queue = _writer_queues[key] = WriterQueue(db.database)
        return queue


def init_database(url: str, pool_size: int = 20) -> peewee.Database:
    db = make_database(url, pool_size)
    database.initialize(db)
    return db


# --- fixed statements ---------------------------------------------------------------------------

_statements: dict[tuple[str, str], str] = {}


def run_sql(template: str, params: tuple | list = ()):
    """Run a fixed statement written with ``?`` placeholders; returns the cursor.

    For the hot paths (sending an event, authenticating a request): peewee builds a query's
    SQL anew on every call, which costs more than SQLite takes to run it. The template is
    converted to the database's placeholder style once. Only bound parameters carry values.
    """
    db = database.obj
    return db.execute_sql(_converted(db, template), params)


def _converted(db: peewee.Database, template: str) -> str:
    key = (template, db.param)
    sql = _statements.get(key)
    if sql is None:
        sql = template.replace("?", db.param)
        if len(_statements) < _STATEMENTS_KEPT:
            _statements[key] = sql
    return sql


# Fixed statements are few; the bound only matters for templates built per call (multi-row
# inserts), which are converted anew once it is reached.
_STATEMENTS_KEPT = 4096


class StatementBatch:
    """Fixed writes (``?`` placeholders, as ``run_sql``) whose results nobody reads, sent
    together by ``run()``: on PostgreSQL as one round trip (the statements joined by ``;`` in
    one execute, which psycopg2 sends as one simple query), on SQLite one by one (no round trip
    to save). Statements run in the order added, inside the caller's transaction; one that
    fails raises from ``run()`` and the transaction rolls back as usual."""

    def __init__(self):
        self._templates: list[str] = []
        self._params: list = []

    def add(self, template: str, params: tuple | list = ()) -> None:
        self._templates.append(template)
        self._params.append(tuple(params))

    def __len__(self) -> int:
        return len(self._templates)

    def run(self, *, commit: bool = False) -> None:
        """Send the statements added. ``commit``: they are the last of the caller's
        transaction, which may commit with them when it is the outermost one (PostgreSQL; the
        transaction's context then ends without a round trip). Nothing may be written in that
        transaction after them."""
        templates, params = self._templates, self._params
        self._templates, self._params = [], []
        db = database.obj
        commit = commit and isinstance(db, PostgresDatabase) and db.transaction_depth() == 1
        if not templates or (not commit and (len(templates) == 1 or is_sqlite())):
            for template, values in zip(templates, params):
                run_sql(template, values)
            return
        sql = ";\n".join(_converted(db, t) for t in templates)
        values = [value for values in params for value in values]
        if commit:
            db.execute_and_commit(sql, values)
        else:
            db.execute_sql(sql, values)


def is_sqlite() -> bool:
    return isinstance(database.obj, peewee.SqliteDatabase)


# SQLite: a PASSIVE checkpoint after every this many write transactions of a process (about
# SQLite's own 1,000 pages, at a few pages per write), run outside the writer queue's turn.
CHECKPOINT_EVERY = 200
_writes_since_checkpoint = 0


def _checkpoint_now_and_then(db: peewee.SqliteDatabase) -> None:
    """Copy the WAL back into the database now and then, after the writer's turn: a PASSIVE
    checkpoint waits for no one and keeps no writer waiting (SQLite's automatic one ran inside
    the commit that crossed its threshold, while the turn was held; its fsyncs cost every
    queued writer 40-350 ms on this machine's disk)."""
    global _writes_since_checkpoint
    _writes_since_checkpoint += 1
    if _writes_since_checkpoint < CHECKPOINT_EVERY:
        return
    _writes_since_checkpoint = 0
    try:
        db.connection().execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.OperationalError as exc:  # another checkpoint running: the next one will do
        logger.debug("checkpoint skipped: %s", exc)


@contextmanager
def write_transaction():
    """A transaction that will write: on SQLite BEGIN IMMEDIATE in the writer queue's turn
    (see the module docstring), a plain transaction otherwise.

    Nested use becomes a savepoint of the outer transaction.
    """
    db = database.obj
    try:
        if isinstance(db, peewee.SqliteDatabase) and not db.in_transaction():
            # A thread waiting for its turn gives its pooled connection back meanwhile (it
            # takes one again to write): writers queued behind a long write must not leave
            # the pool empty for every reader of the process.
            with (writer_queue(db).turn(SQLITE_BUSY_TIMEOUT_S, before_waiting=db.close),
                  db.atomic("IMMEDIATE") as txn):
                yield txn
            _checkpoint_now_and_then(db)
        else:
            with db.atomic() as txn:
                yield txn
    except peewee.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseBusy() from exc
        raise


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
            SchemaVersion.create(version=number, name=name, applied_ts=clock.now_ms())
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
