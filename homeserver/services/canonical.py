"""Canonical JSON and unpadded base64 (spec appendices), shared by hashing and signing code.

Encoding goes through the ``canonicaljson`` library; ``check_canonical`` refuses the values the
canonical form cannot carry (floats, integers outside the IEEE-754-safe range, strings that are
not valid Unicode), so a value that passes it always hashes the same on every server.
"""

from __future__ import annotations

import base64
import hashlib

import canonicaljson

from .. import errors

MIN_SAFE_INTEGER = -(2**53) + 1
MAX_SAFE_INTEGER = 2**53 - 1


def encode(value) -> bytes:
    """The canonical JSON bytes of ``value`` (sorted keys, no whitespace, UTF-8)."""
    return canonicaljson.encode_canonical_json(value)


def unpadded_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def urlsafe_unpadded_base64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def decode_base64(text: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not (the spec asks to accept both)."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def check_canonical(value, *, where: str = "content") -> None:
    """Raise M_BAD_JSON unless ``value`` can be encoded as canonical JSON.

    Walks iteratively so that deeply nested input cannot exhaust the interpreter's stack.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int):
            if not MIN_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                raise errors.BadJson(
                    f"Integers in {where} must be between -(2**53)+1 and (2**53)-1")
        elif isinstance(item, float):
            raise errors.BadJson(f"Floats are not allowed in {where}; use integers")
        elif isinstance(item, str):
            _check_unicode(item, where)
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise errors.BadJson(f"Object keys in {where} must be strings")
                _check_unicode(key, where)
                pending.append(sub)
        elif isinstance(item, (list, tuple)):
            pending.extend(item)
        else:
            raise errors.BadJson(f"Unsupported value in {where}")


def _check_unicode(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise errors.BadJson(f"Strings in {where} must be valid Unicode (no lone surrogates)")
