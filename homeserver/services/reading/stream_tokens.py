"""Tokens handed to clients: ``next_batch``/``since`` of /sync and the pagination tokens of
/messages, /context and ``prev_batch``.

Both encode one stream position (``services.streams.positions``): a point *between* events, "after
every event at or below p". A room's history is a line whose order is the stream order, so one
position is also a topological position inside any room, and a sync token is a valid /messages
token. Clients treat tokens as opaque; the prefixes only let us tell them apart and evolve them.
"""

from __future__ import annotations

import re

from ... import errors

_SYNC = re.compile(r"s([0-9]{1,18})")
_PAGINATION = re.compile(r"[st]([0-9]{1,18})")


def sync_token(position: int) -> str:
    return f"s{position}"


def pagination_token(position: int) -> str:
    return f"t{position}"


def parse_sync_token(token: str, current: int) -> int:
    """The position of a ``since`` token; malformed or not from this server: M_INVALID_PARAM."""
    match = _SYNC.fullmatch(token)
    if match is None:
        raise errors.InvalidParam("Invalid 'since' token")
    position = int(match.group(1))
    if position > current:
        raise errors.InvalidParam("Unknown 'since' token: it is not from this server")
    return position


def parse_pagination_token(token: str, current: int, name: str) -> int:
    """The position of a /messages ``from``/``to`` token (a sync token works too)."""
    match = _PAGINATION.fullmatch(token)
    if match is None:
        raise errors.InvalidParam(f"Invalid '{name}' token")
    return min(int(match.group(1)), current)
