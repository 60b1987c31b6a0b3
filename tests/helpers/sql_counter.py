"""Counting the SQL statements a piece of work executes (tests that bound per-request work)."""

import re
from contextlib import contextmanager

from homeserver import db


@contextmanager
def sql_statements(monkeypatch):
    """Collect the SQL text of every statement executed through the database while inside."""
    database = db.database.obj
    seen: list[str] = []
    original = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    try:
        yield seen
    finally:
        monkeypatch.setattr(database, "execute_sql", original)


def touching(statements: list[str], *tables: str) -> list[str]:
    """The statements that name one of these tables (pass ``Model._meta.table_name``), quoted
    as peewee writes them or bare as in the fixed statements (``db.run_sql``)."""
    names = [re.compile(rf'"{re.escape(t)}"|(?<![\w."]){re.escape(t)}(?![\w"])')
             for t in tables]
    return [sql for sql in statements if any(name.search(sql) for name in names)]
