"""What an operator reads in the log when gunicorn starts: version, database kind, schema."""

from homeserver import __version__, db


def test_startup_log_names_version_database_and_schema(gunicorn_homeserver, database_url):
    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    expected = (f"homeserver {__version__}, {kind} database, "
                f"schema version {db.latest_schema_version()}")
    assert expected in gunicorn_homeserver.log_tail(100_000)
