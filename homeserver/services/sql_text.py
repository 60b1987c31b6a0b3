"""Case-insensitive substring matching in SQL (LIKE with the pattern's wildcards escaped):
linear in the text, no pattern syntax reaches the database from user input."""

from __future__ import annotations

import peewee

_LIKE_ESCAPE = "!"


def _escaped(word: str) -> str:
    return (word.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
            .replace("%", _LIKE_ESCAPE + "%").replace("_", _LIKE_ESCAPE + "_"))


def _like(column, pattern: str):
    return peewee.NodeList((peewee.fn.LOWER(column), peewee.SQL("LIKE"), pattern,
                            peewee.SQL(f"ESCAPE '{_LIKE_ESCAPE}'")))


def contains(column, word: str):
    """``column`` contains ``word`` (already lower-cased by the caller), ignoring case."""
    return _like(column, f"%{_escaped(word)}%")


def localpart_contains(column, word: str):
    """The localpart of the user ID in ``column`` contains ``word`` (lower-cased), ignoring
    case (as Synapse's ``@%word%:%``)."""
    return _like(column, f"@%{_escaped(word)}%:%")
