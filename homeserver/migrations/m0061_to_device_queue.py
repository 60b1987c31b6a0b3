"""to_device_message.stream_position became nullable (queued messages have no position yet).

Databases created by the first version of m0060 have it NOT NULL; fresh ones already match.
"""

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate


def up(db):
    columns = {c.name: c for c in db.get_columns("to_device_message")}
    if columns["stream_position"].null:
        return
    sqlite = isinstance(db, peewee.SqliteDatabase)
    migrator = SqliteMigrator(db) if sqlite else PostgresqlMigrator(db)
    migrate(migrator.drop_not_null("to_device_message", "stream_position"))
