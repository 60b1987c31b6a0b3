"""Secrets handed to clients: generated with ``secrets``, stored only as SHA-256 digests."""

import hashlib
import hmac
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def generate(prefix: str, length: int = 32) -> str:
    """A random opaque token such as ``syt_...``; the prefix tells its kind apart in logs."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


def random_id(length: int = 10) -> str:
    """Upper-case device IDs, session IDs and the like."""
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(length))
