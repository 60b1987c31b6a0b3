"""Relations, threads, search, space hierarchy, reports, OpenID tokens.

- indexes on event for child events of a parent in order (/relations, aggregations) and for
  the thread roots of a room (/threads);
- the search index (models/search.py) with its text index: a GIN index on PostgreSQL, an FTS5
  table kept in step by triggers on SQLite (none when this SQLite lacks FTS5: LIKE is used);
- reports, OpenID tokens, hierarchy pagination.
"""

import peewee

from ..models.hierarchy import HierarchyPage
from ..models.openid import OpenIdToken
from ..models.reports import Report
from ..models.search import EventSearch, SearchIndexPosition

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE event_search_fts USING fts5("
    "value, content='event_search', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER event_search_fts_insert AFTER INSERT ON event_search BEGIN "
    "INSERT INTO event_search_fts (rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER event_search_fts_delete AFTER DELETE ON event_search BEGIN "
    "INSERT INTO event_search_fts (event_search_fts, rowid, value) "
    "VALUES ('delete', old.id, old.value); END",
]


def up(db):
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_relates_to_id_stream_ordering "
                   "ON event (relates_to_id, stream_ordering)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS event_room_id_relation_type_stream_ordering "
                   "ON event (room_id, relation_type, stream_ordering)")
    db.create_tables([EventSearch, SearchIndexPosition, Report, OpenIdToken, HierarchyPage])
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("CREATE INDEX event_search_value_tsv ON event_search "
                       "USING GIN (to_tsvector('english', value))")
        return
    try:
        with db.atomic():
            for statement in SQLITE_FTS:
                db.execute_sql(statement)
    except peewee.OperationalError:
        pass  # no FTS5 in this SQLite: services.search falls back to LIKE
