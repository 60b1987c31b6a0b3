"""Event rows as the hot reads fetch them: fast to build, with what serializing them needs
read in the same statement.

``fetch(query)``
    The ``Event`` rows of a select of events (a peewee query, or ``(sql, params)``), built
    without peewee's per-field ``setattr`` (which was most of the Python time of an initial
    /sync on 100 rooms). Columns that are not ``Event`` fields (``EXTRAS``) become plain
    attributes of the rows.

``select(erased=True, children=True)``
    ``Event.select()`` with the ``EXTRAS`` columns, correlated to each row: one statement
    instead of one more round trip per page for each (on PostgreSQL a round trip costs more
    than these index probes):

    - ``erased_at``: the stream position of the sender's erasure, NULL when not erased
      (``erased_senders`` reads it instead of looking the senders up);
    - ``has_children``: 1 (NULL: none) when an event relates to this one with a relation type the server
      aggregates (``relations.bundle_aggregations`` reads it instead of looking them up).

``extras_sql(alias)``
    The same columns as SQL text, for statements written out (``timeline.newest_pages``).
"""

from __future__ import annotations

import peewee
from peewee import SQL

from ...db import database
from ...models.erasure import ErasedUser
from ...models.rooms import Event

# The relation types whose children are bundled into their parent (``relations``).
AGGREGATED_RELATIONS = ("m.replace", "m.thread", "m.reference")
EXTRAS = ("erased_at", "has_children")

_FIELD_OF_COLUMN = {field.column_name: field.name for field in Event._meta.sorted_fields}


def _erased_at() -> peewee.Node:
    return (ErasedUser.select(ErasedUser.stream_position)
            .where(ErasedUser.user_id == Event.sender).alias("erased_at"))


def _has_children() -> peewee.Node:
    # A scalar subquery with LIMIT 1, not EXISTS: PostgreSQL may run an EXISTS as a hashed
    # subplan, which reads every relation of the table to answer for one page.
    child = Event.alias("child")
    return (child.select(SQL("1")).where(
        (child.relates_to_id == Event.event_id)
        & child.relation_type.in_(list(AGGREGATED_RELATIONS))).limit(1)
        .alias("has_children"))


def select(*, erased: bool = True, children: bool = True) -> peewee.ModelSelect:
    columns = [Event]
    if erased:
        columns.append(_erased_at())
    if children:
        columns.append(_has_children())
    return Event.select(*columns)


def extras_sql(alias: str) -> str:
    """``erased_at`` and ``has_children`` of the rows of ``alias`` (the relation types are
    constants, written inline)."""
    table, erased = Event._meta.table_name, ErasedUser._meta.table_name
    types = ", ".join(f"'{value}'" for value in AGGREGATED_RELATIONS)
    return (f"(SELECT stream_position FROM {erased} WHERE user_id = {alias}.sender) AS erased_at, "
            f"(SELECT 1 FROM {table} AS child WHERE child.relates_to_id = {alias}.event_id "
            f"AND child.relation_type IN ({types}) LIMIT 1) AS has_children")


def fetch(query) -> list[Event]:
    """See the module docstring."""
    sql, params = query if isinstance(query, tuple) else query.sql()
    cursor = database.obj.execute_sql(sql, params)
    names = [column[0] for column in cursor.description]
    fields = [(index, _FIELD_OF_COLUMN[name]) for index, name in enumerate(names)
              if name in _FIELD_OF_COLUMN]
    extras = [(index, name) for index, name in enumerate(names) if name not in _FIELD_OF_COLUMN]
    new = Event.__new__
    rows = []
    for values in cursor.fetchall():
        row = new(Event)
        # What peewee's own row builder leaves on a row read from the database.
        row.__data__ = {name: values[index] for index, name in fields}
        row._dirty = set()
        row.__rel__ = {}
        for index, name in extras:
            setattr(row, name, values[index])
        rows.append(row)
    return rows
