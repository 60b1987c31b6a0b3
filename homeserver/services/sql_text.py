"""Case-insensitive substring matching in SQL (LIKE with the pattern's wildcards escaped):
linear in the text, no pattern syntax reaches the database from user input."""

from __future__ import annotations

import peewee

_LIKE_ESCAPE = "!"


def like_pattern(word: str) -> str:
    escaped = (word.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
               .replace("%", _LIKE_ESCAPE + "%").replace("_", _LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


def contains(column, word: str):
    """``column`` contains ``word`` (already lower-cased by the caller), ignoring case."""
    return peewee.NodeList((peewee.fn.LOWER(column), peewee.SQL("LIKE"), like_pattern(word),
                            peewee.SQL(f"ESCAPE '{_LIKE_ESCAPE}'")))
