"""Media IDs and mxc URIs, checked against the spec's grammar before anything touches the disk.

A media ID may contain only ``A-Za-z0-9``, ``_`` and ``-`` (spec: Content repository, security
considerations); that whitelist, not a blacklist of ``.`` and ``/``, is what rules out traversal.
"""

from __future__ import annotations

import re
import secrets
import string

from ...identifiers import is_valid_server_name

MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,255}")
_ALPHABET = string.ascii_letters + string.digits
NEW_ID_LENGTH = 24


def new_media_id() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(NEW_ID_LENGTH))


def is_valid_media_id(media_id: str) -> bool:
    return isinstance(media_id, str) and MEDIA_ID.fullmatch(media_id) is not None


def mxc_uri(server_name: str, media_id: str) -> str:
    return f"mxc://{server_name}/{media_id}"


def parse_mxc(uri: str) -> tuple[str, str] | None:
    """``mxc://server/media_id`` -> (server, media_id) when both parts are valid, else None."""
    if not isinstance(uri, str) or not uri.startswith("mxc://"):
        return None
    server, sep, media_id = uri[len("mxc://"):].partition("/")
    if not sep or not is_valid_server_name(server) or not is_valid_media_id(media_id):
        return None
    return server, media_id
