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
