"""Counting the SQL statements a piece of work executes (tests that bound per-request work)."""

import re
import threading
from contextlib import contextmanager

from homeserver import db


@contextmanager
def sql_statements(monkeypatch):
    """Collect the SQL text of every statement this thread executes through the database while
    inside (the test client serves requests in the test's thread; the background workers a
    process starts at its first request run their own statements meanwhile)."""
    database = db.database.obj
    seen: list[str] = []
    original = database.execute_sql
    thread = threading.get_ident()

    def counting(sql, params=None, *args, **kwargs):
        if threading.get_ident() == thread:
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
