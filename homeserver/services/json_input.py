"""Parsing JSON a client sent (request bodies, inline filters) with a nesting limit.

Python's own parser and encoder recurse once per level and fail with ``RecursionError`` near
the interpreter's limit (about 1000 frames, minus the stack already in use). Without a limit of
our own, content accepted by a shallow write (a send) could be nested just deep enough to make
a deeper read fail: /sync wraps event content in a dozen more levels, and runs further down the
stack. Every JSON document a client sends is therefore refused beyond ``max_depth`` levels
(``requests.max_json_depth``, default 100, at most ``MAX_CONFIGURABLE_DEPTH``): everything stored
from a body is at most that deep, and every response that wraps it stays far from the
interpreter's limit (and within the 128 levels that serde_json clients parse).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

DEFAULT_MAX_DEPTH = 100
# Responses wrap stored content in at most a few dozen levels; this keeps every read far from
# Python's recursion limit whatever an operator configures.
MAX_CONFIGURABLE_DEPTH = 256

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class Refused(ValueError):
    """JSON that parses but is not accepted (answered M_BAD_JSON, not M_NOT_JSON)."""


class TooDeep(Refused):
    """The document nests containers deeper than allowed."""


class LoneSurrogate(Refused):
    """A string escapes half of a UTF-16 surrogate pair: no Unicode text, it cannot be stored
    (PostgreSQL and SQLite refuse it) nor sent back as UTF-8."""


def _reject_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


def nesting_depth(data: bytes) -> int:
    """How deeply the arrays and objects of a JSON text nest (``{}`` is 1, ``"x"`` is 0).

    Exact for valid JSON; scans without recursion, brackets inside strings excluded."""
    if data.count(b"[") + data.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    return max(accumulate(_STEP[b] for b in brackets))


def loads(data: bytes | str, *, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """``json.loads`` without NaN/Infinity, refusing documents nested deeper than ``max_depth``.

    Raises ``Refused`` (too deep, lone surrogates) for JSON that is not accepted and
    ``ValueError`` (or ``UnicodeDecodeError``, a ValueError too) for anything that is not JSON."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    try:
        value = json.loads(data, parse_constant=_reject_constant)
    except RecursionError:
        raise TooDeep(f"JSON nested more than {max_depth} levels deep") from None
    # Fast path: a document with fewer containers than the limit cannot be nested deeper.
    if raw.count(b"[") + raw.count(b"{") > max_depth and nesting_depth(raw) > max_depth:
        raise TooDeep(f"JSON nested more than {max_depth} levels deep")
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(value):
        raise LoneSurrogate("Strings must be valid Unicode (no lone surrogates)")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
