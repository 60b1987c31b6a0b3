"""The full-text index behind POST /search (``models/search.py``) and how it is queried.

Keeping it up to date: ``catch_up()`` indexes the searchable values of every event stored
after the position recorded in ``SearchIndexPosition`` and removes the rows of events redacted
since (a redacted event's JSON is already stripped, so nothing of it is indexed again). Search
calls it before reading, so the event writer knows nothing about search, and a search always
sees every event committed before it. Work is done in bounded transactions; concurrent callers
in other workers serialize on the position row.

Matching (``match_clause``) is the one part that depends on the database:

- PostgreSQL: ``to_tsvector('english', value) @@ plainto_tsquery('english', term)``, ranked with
  ``ts_rank`` (a GIN index on the same expression serves it);
- SQLite with FTS5: ``event_search_fts MATCH`` with every word quoted (all words must appear,
  porter-stemmed), ranked with ``-bm25``;
- SQLite without FTS5: every word must appear (``LIKE``, case-insensitive for ASCII); rank 1.
"""

from __future__ import annotations

import json
import re

import peewee

from ...db import database, write_transaction
from ...models.rooms import Event
from ...models.search import EventSearch, SearchIndexPosition
from ..streams import positions as streams

SEARCHED_TYPES = ("m.room.message", "m.room.name", "m.room.topic")
KEYS = ("content.body", "content.name", "content.topic")
# Events read per catch-up transaction.
BATCH = 2000

_WORD = re.compile(r"\w+", re.UNICODE)


def words(term: str) -> list[str]:
    """The words of a search term, in order, without repeats."""
    return list(dict.fromkeys(word.lower() for word in _WORD.findall(term)))


def values_of(event_type: str, state_key: str | None, content) -> list[tuple[str, str]]:
    """(key, text) pairs an event contributes to the index (spec: room_events keys)."""
    if not isinstance(content, dict):
        return []
    found: list[tuple[str, str]] = []
    if event_type == "m.room.message" and state_key is None:
        if isinstance(content.get("body"), str):
            found.append(("content.body", content["body"]))
    elif event_type == "m.room.name" and state_key == "":
        if isinstance(content.get("name"), str):
            found.append(("content.name", content["name"]))
    elif event_type == "m.room.topic" and state_key == "":
        topic = content.get("topic")
        if isinstance(topic, str):
            found.append(("content.topic", topic))
        blocks = content.get("m.topic")
        if isinstance(blocks, list):
            for block in blocks:
                if (isinstance(block, dict) and block.get("mimetype", "text/plain") == "text/plain"
                        and isinstance(block.get("body"), str) and block["body"] != topic):
                    found.append(("content.topic", block["body"]))
                    break
    return [(key, text) for key, text in found if text.strip()]


# --- keeping the index up to date ---------------------------------------------------------------

def _indexed_position() -> int | None:
    return SearchIndexPosition.select(SearchIndexPosition.position).where(
        SearchIndexPosition.id == 1).scalar()


def catch_up() -> None:
    """Index everything committed so far (see the module docstring)."""
    while True:
        done = _indexed_position()
        if done is not None and done >= streams.current_position():
            return
        with write_transaction():
            if not _index_batch():
                return


def _index_batch() -> bool:
    """One transaction's worth; False when the index is up to date."""
    SearchIndexPosition.insert(id=1, position=0).on_conflict_ignore().execute()
    query = SearchIndexPosition.select().where(SearchIndexPosition.id == 1)
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        query = query.for_update()  # one catch-up at a time across processes
    done = query.get().position
    # Every position up to the counter is committed (commit order is position order).
    current = streams.current_position()
    if done >= current:
        return False
    rows = list(Event.select(Event.event_id, Event.room, Event.stream_ordering, Event.sender,
                             Event.type, Event.state_key, Event.json)
                .where((Event.stream_ordering > done) & (Event.stream_ordering <= current)
                       & Event.type.in_(SEARCHED_TYPES + ("m.room.redaction",)))
                .order_by(Event.stream_ordering).limit(BATCH))
    reached = rows[-1].stream_ordering if len(rows) == BATCH else current
    entries, redactions = [], []
    for row in rows:
        if row.type == "m.room.redaction":
            redactions.append(row.event_id)
            continue
        content = json.loads(row.json).get("content")
        for key, text in values_of(row.type, row.state_key, content):
            entries.append({"event_id": row.event_id, "room_id": row.room_id,
                            "stream_ordering": row.stream_ordering, "sender": row.sender,
                            "key": key, "value": text})
    for start in range(0, len(entries), 200):
        EventSearch.insert_many(entries[start:start + 200]).execute()
    if redactions:
        redacted = Event.select(Event.event_id).where(Event.redacted_by.in_(redactions))
        # Row by row on SQLite, so the FTS5 delete trigger keeps the text index in step.
        EventSearch.delete().where(EventSearch.event_id.in_(redacted)).execute()
    SearchIndexPosition.update(position=reached).where(SearchIndexPosition.id == 1).execute()
    return True


# --- matching -----------------------------------------------------------------------------------

def _has_fts5() -> bool:
    db = database.obj
    if isinstance(db, peewee.PostgresqlDatabase):
        return False
    return db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'event_search_fts'"
                          ).fetchone() is not None


def match_clause(term_words: list[str]) -> tuple[str, str, str, list]:
    """(FROM clause, condition, rank expression, parameters) selecting rows ``s`` of
    event_search that contain every word: SQL fragments with the database's placeholders. The
    parameters are in statement order: the rank's (in the SELECT list), then the condition's."""
    db = database.obj
    p = db.param
    if isinstance(db, peewee.PostgresqlDatabase):
        text = " ".join(term_words)
        vector = "to_tsvector('english', s.value)"
        return ("event_search s", f"{vector} @@ plainto_tsquery('english', {p})",
                f"ts_rank({vector}, plainto_tsquery('english', {p}))", [text, text])
    if _has_fts5():
        query = " ".join('"' + word.replace('"', '""') + '"' for word in term_words)
        # CROSS JOIN keeps SQLite from driving the join from event_search and running the
        # full-text query once per row (30x slower on 3,000 matches).
        return ("event_search_fts CROSS JOIN event_search s ON s.id = event_search_fts.rowid",
                f"event_search_fts MATCH {p}", "-bm25(event_search_fts)", [query])
    patterns = ["%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for word in term_words]
    condition = " AND ".join(f"s.value LIKE {p} ESCAPE '\\'" for _ in patterns)
    return "event_search s", condition, "1.0", patterns
