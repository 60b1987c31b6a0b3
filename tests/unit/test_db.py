import pytest

from homeserver import db
from homeserver.db import SchemaVersion


def test_migrations_are_recorded_and_idempotent(app):
    with db.database.connection_context():
        assert db.current_schema_version() == db.latest_schema_version()
        assert db.migrate() == []


def test_database_newer_than_code_is_refused(app):
    with db.database.connection_context():
        newest = db.latest_schema_version()
        SchemaVersion.create(version=newest + 1, name="m9999_future", applied_ts=0)
        try:
            with pytest.raises(db.SchemaTooNew) as info:
                db.check_schema()
            assert "newer" in str(info.value)
        finally:
            SchemaVersion.delete().where(SchemaVersion.version == newest + 1).execute()


def test_stream_positions_increase(app):
    from homeserver.services.streams import positions as streams

    with db.database.connection_context():
        with db.write_transaction():
            first = streams.next_position()
        with db.write_transaction():
            second = streams.next_position()
        assert second == first + 1
        assert streams.current_position() == second


@pytest.fixture
def postgres_pool(postgres_url):
    """A pooled PostgreSQL database of its own (the server's class), closed after the test."""
    pool = db.make_database(postgres_url, pool_size=2)
    yield pool
    pool.close_all()


def test_postgres_connection_just_returned_is_checked_out_without_a_round_trip(postgres_pool,
                                                                               monkeypatch):
    """peewee probed every pooled PostgreSQL connection with a round trip at checkout, under
    the locks every connect and close of the process takes; one returned moments ago is not
    probed, one idle in the pool longer than POOL_PROBE_AFTER_S still is."""
    probes = []
    probe = postgres_pool._adapter.is_connection_closed
    monkeypatch.setattr(postgres_pool._adapter, "is_connection_closed",
                        lambda conn: probes.append(conn) or probe(conn))
    postgres_pool.connect()
    postgres_pool.close()
    for _ in range(5):
        postgres_pool.connect()
        assert postgres_pool.execute_sql("SELECT 1").fetchone() == (1,)
        postgres_pool.close()
    assert probes == []
    monkeypatch.setattr(db, "POOL_PROBE_AFTER_S", 0.0)
    postgres_pool.connect()
    postgres_pool.close()
    assert len(probes) == 1


def test_postgres_connection_dropped_by_the_server_is_replaced(postgres_pool, postgres_url,
                                                               monkeypatch):
    """A connection the server dropped while it sat in the pool is found by the probe and
    replaced: the next checkout works."""
    import psycopg2

    postgres_pool.connect()
    pid = postgres_pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    postgres_pool.close()
    admin = psycopg2.connect(postgres_url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    admin.close()
    monkeypatch.setattr(db, "POOL_PROBE_AFTER_S", 0.0)  # as after a while idle in the pool
    postgres_pool.connect()
    assert postgres_pool.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid
    postgres_pool.close()
