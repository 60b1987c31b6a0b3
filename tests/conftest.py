"""Fixtures: every test that uses ``app`` runs twice, on SQLite and on PostgreSQL.

PostgreSQL: a scratch database is created per test session (and per xdist worker) on the
server at $TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test, trust auth)
and dropped at the end. Without a reachable PostgreSQL the PostgreSQL half is skipped and the
run says so loudly, unless REQUIRE_POSTGRES=1 (CI), which turns that into a failure.
REQUIRE_NO_SKIPS=1 (CI) turns every skip into a failure.
"""

from __future__ import annotations

import os
import uuid

import peewee
import psycopg2
import pytest
from argon2 import PasswordHasher

from homeserver import clock as server_clock
from homeserver import db
from homeserver.app import create_app
from homeserver.config import load_config
from homeserver.services import workers
from homeserver.services.accounts import passwords
from helpers.accounts import make_admin
from helpers.database import release_connections
from helpers.push_gateway import Gateway
from helpers.rooms import create_room, join
from helpers.user_handle import UserHandle

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
REQUIRE_NO_SKIPS = os.environ.get("REQUIRE_NO_SKIPS") == "1"

_postgres_skipped: list[str] = []

# Tests hash many passwords; the production cost would only slow them down.
passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _admin_connection():
    conn = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=3)
    conn.autocommit = True
    return conn


def _with_database(url_base: str, name: str) -> str:
    head, _, _ = url_base.rpartition("/")
    return f"{head}/{name}"


@pytest.fixture(scope="session")
def postgres_url():
    try:
        conn = _admin_connection()
    except psycopg2.OperationalError as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(exc).strip()}"
        if REQUIRE_POSTGRES:
            pytest.fail(reason + " (REQUIRE_POSTGRES=1)")
        _postgres_skipped.append(reason)
        pytest.skip(reason)
    name = f"hs_test_{uuid.uuid4().hex[:12]}"
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(POSTGRES_ADMIN_URL, name)
    yield url
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                    (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def _migrated(url: str) -> None:
    database = db.init_database(url, 4)
    db.migrate()
    release_connections(database)


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    """A migrated database, one per backend per session; tests clear its rows (see ``app``)."""
    if request.param == "sqlite":
        url = str(tmp_path_factory.mktemp("sqlite") / "homeserver.db")
    else:
        url = request.getfixturevalue("postgres_url")
    _migrated(url)
    return url


# PostgreSQL: the statement that empties a test database, by database name (built once).
_postgres_clear_sql: dict[str, str] = {}


def _postgres_clear(database: peewee.Database, tables: list[str]) -> str:
    """DELETE from every table with foreign-key triggers off, and every sequence restarted.
    TRUNCATE does the same but replaces every table's files: 0.3-0.7 s per test here, against
    ~30 ms for these DELETEs of a test's few rows (half the suite's PostgreSQL time)."""
    name = database.database
    if name not in _postgres_clear_sql:
        sequences = [s for (s,) in database.execute_sql(
            "SELECT sequence_name FROM information_schema.sequences "
            "WHERE sequence_schema = current_schema()").fetchall()]
        _postgres_clear_sql[name] = "; ".join(
            ["SET LOCAL session_replication_role = replica"]
            + [f'DELETE FROM "{t}"' for t in tables]
            + [f'ALTER SEQUENCE "{s}" RESTART' for s in sequences])
    return _postgres_clear_sql[name]


def _clear_all_tables(database: peewee.Database) -> None:
    tables = [t for t in database.get_tables() if t != "schema_version"]
    if isinstance(database, peewee.PostgresqlDatabase):
        if tables:
            with database.atomic():
                database.execute_sql(_postgres_clear(database, tables))
    else:
        # Full-text (FTS5) tables are emptied by triggers on the tables they index; deleting
        # from their shadow tables directly would corrupt them.
        virtual = [name for (name,) in database.execute_sql(
            "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")]
        tables = [t for t in tables if not any(t == v or t.startswith(v + "_") for v in virtual)]
        database.execute_sql("PRAGMA foreign_keys = OFF")
        for table in tables:
            database.execute_sql(f'DELETE FROM "{table}"')
        database.execute_sql("PRAGMA foreign_keys = ON")
    database.execute_sql("INSERT INTO stream_counter (id, position) VALUES (1, 0)")


TEST_CONFIG = {
    "server_name": "localhost:8008",
    "registration": {"enabled": True},
    "rate_limits": {"enabled": False},
    # Only identity servers a test runs and trusts: no request leaves for the network.
    "identity_servers": {"allow_untrusted": False},
}


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on the test database with config overrides: ``make_app(registration=...)``."""
    built = []

    def factory(**overrides):
        raw = {**TEST_CONFIG, "data_dir": str(tmp_path / "data"), "database": database_url}
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(raw.get(key), dict):
                raw[key] = {**raw[key], **value}
            else:
                raw[key] = value
        config = load_config(path=os.devnull, environ={}, overrides=raw)
        app = create_app(config)
        app.testing = True
        if not built:
            database = db.database.obj
            with database.connection_context():
                _clear_all_tables(database)
        built.append(app)
        return app

    yield factory
    # The app's background threads end with the test, before its rows are cleared or its
    # database dropped (they would fail on it and log tracebacks into the run's output).
    left = workers.stop_all(timeout_s=15.0)
    assert not left, f"background threads did not stop: {left}"
    release_connections(db.database.obj)


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


class Clock:
    """A controllable ``homeserver.clock.now_ms``: ``clock.advance(ms)`` moves time forward."""

    def __init__(self, start_ms: int):
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture
def clock(monkeypatch):
    """The server's time (homeserver/clock.py, read by every module), stopped: it moves only with
    ``clock.advance(ms)``, so a test makes time pass without sleeping."""
    fake = Clock(server_clock.now_ms())
    monkeypatch.setattr(server_clock, "now_ms", fake)
    return fake


@pytest.fixture
def register_user(client):
    """``register_user("alice")`` registers through the API and returns a UserHandle."""
    counter = {"n": 0}

    def factory(localpart: str | None = None, password: str = "correct horse battery", **extra):
        counter["n"] += 1
        localpart = localpart or f"user{counter['n']}"
        body = {"username": localpart, "password": password,
                "auth": {"type": "m.login.dummy"}, **extra}
        response = client.post("/_matrix/client/v3/register", json=body)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        return UserHandle(client, data["user_id"], data.get("access_token"),
                          data.get("device_id"), password)

    return factory


@pytest.fixture
def register_user_for(register_user):
    """``register_user_for(app, "alice")``: registered with ``register_user`` (same database),
    sending its requests to ``app`` (an app built with other configuration)."""

    def factory(app, localpart=None):
        handle = register_user(localpart)
        return UserHandle(app.test_client(), handle.user_id, handle.access_token,
                          handle.device_id, handle.password)

    return factory


# The users most tests need, registered through the API. A module that needs one set up
# differently gives its fixture another name (e.g. ``alice_with_previews``).

@pytest.fixture
def alice(register_user):
    return register_user("alice")


@pytest.fixture
def bob(register_user):
    return register_user("bob")


@pytest.fixture
def eve(register_user):
    return register_user("eve")


@pytest.fixture
def admin(register_user):
    """A server admin (the ``is_admin`` flag)."""
    return make_admin(register_user("admin"))


@pytest.fixture
def room(register_user):
    """A public room of alice's that bob has joined: (room_id, alice, bob)."""
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    return room_id, alice, bob


@pytest.fixture
def gateway():
    """A push gateway on loopback (helpers/push_gateway.py), closed after the test."""
    server = Gateway()
    yield server
    server.close()


def _skip_is_failure(report) -> None:
    """Under REQUIRE_NO_SKIPS=1 (CI) a skipped test or module is a failure: CI installs every
    system package the tests need, so a skip there means something is missing."""
    if REQUIRE_NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, but REQUIRE_NO_SKIPS=1 (CI) allows no skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _skip_is_failure(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _skip_is_failure(outcome.get_result())


def pytest_terminal_summary(terminalreporter):
    if _postgres_skipped:
        bar = "!" * 78
        terminalreporter.write_line(bar, red=True, bold=True)
        terminalreporter.write_line(
            "THE POSTGRESQL HALF OF THE SUITE WAS SKIPPED: only SQLite was tested.",
            red=True, bold=True)
        terminalreporter.write_line(_postgres_skipped[0], red=True)
        terminalreporter.write_line(
            "Start PostgreSQL at 127.0.0.1:5432 (or set TEST_POSTGRES_URL) to run it.", red=True)
        terminalreporter.write_line(bar, red=True, bold=True)
