"""The full-text index of POST /search (spec module "Server Side Search").

One row per searchable value of an event: ``content.body`` of m.room.message, ``content.name``
of m.room.name, ``content.topic`` (and the text/plain ``m.topic`` body) of m.room.topic.
``services.reading.search`` fills it from the event table, following the stream position it has
indexed up to (``SearchIndexPosition``), so the event writer needs no knowledge of search.

The text index itself depends on the database (created by migration m0080):
PostgreSQL has a GIN index on ``to_tsvector('english', value)``; SQLite has an FTS5 table
``event_search_fts`` over ``value`` (external content, kept in step by triggers), or no text
index at all when SQLite lacks FTS5 (searches then use LIKE).
"""

import peewee

from ..db import BaseModel


class EventSearch(BaseModel):
    event_id = peewee.CharField(max_length=255, index=True)
    room_id = peewee.CharField(max_length=255)
    stream_ordering = peewee.BigIntegerField()
    sender = peewee.CharField(max_length=255)
    # "content.body", "content.name" or "content.topic".
    key = peewee.CharField(max_length=32)
    value = peewee.TextField()

    class Meta:
        indexes = ((("room_id", "stream_ordering"), False),)


class SearchIndexPosition(BaseModel):
    """One row (id 1): every event at or below ``position`` has been indexed."""

    id = peewee.IntegerField(primary_key=True)
    position = peewee.BigIntegerField()
