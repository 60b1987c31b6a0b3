"""Identifier grammars from the spec's appendices: server names, user IDs, room IDs and aliases.

Server names may carry a port (``localhost:8008``) or be IPv6 literals, so identifiers are split
at the *first* ``:`` after the sigil (localparts cannot contain ``:``), never the last.
"""

from __future__ import annotations

import re

_IPV4 = r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}"
_IPV6 = r"\[[0-9A-Fa-f:.]{2,45}\]"
_DNS = r"[0-9A-Za-z.\-]{1,255}"
_SERVER_NAME = re.compile(rf"(?:{_IPV4}|{_IPV6}|{_DNS})(?::\d{{1,5}})?", re.ASCII)
_USER_LOCALPART = re.compile(r"[a-z0-9._=\-/+]+")
# Historical user IDs: any code point but ':' and NUL (spec: "Historical User IDs").
_HISTORICAL_LOCALPART = re.compile(r"[^:\x00]*")

MAX_ID_LENGTH = 255


def is_valid_server_name(name: str) -> bool:
    if not isinstance(name, str) or not _SERVER_NAME.fullmatch(name):
        return False
    host = name
    if not name.startswith("[") and ":" in name:
        host, port = name.rsplit(":", 1)
        if int(port) > 65535:
            return False
    elif name.startswith("[") and "]:" in name:
        port = name.rsplit("]:", 1)[1]
        if int(port) > 65535:
            return False
    if re.fullmatch(_IPV4, host, re.ASCII):
        return all(0 <= int(part) <= 255 for part in host.split("."))
    return True


def split_id(identifier: str, sigil: str) -> tuple[str, str] | None:
    """``&localpart:server`` -> (localpart, server), or None when it is not of that shape."""
    if not isinstance(identifier, str) or not identifier.startswith(sigil) or ":" not in identifier:
        return None
    localpart, server = identifier[1:].split(":", 1)
    if not is_valid_server_name(server):
        return None
    return localpart, server


def is_valid_localpart(localpart: str) -> bool:
    return bool(_USER_LOCALPART.fullmatch(localpart))


def is_valid_user_id(user_id: str, *, historical: bool = True) -> bool:
    """Whether ``user_id`` is a user ID; ``historical`` accepts the older, wider grammar."""
    if not isinstance(user_id, str) or len(user_id.encode("utf-8")) > MAX_ID_LENGTH:
        return False
    parts = split_id(user_id, "@")
    if parts is None:
        return False
    grammar = _HISTORICAL_LOCALPART if historical else _USER_LOCALPART
    return bool(grammar.fullmatch(parts[0]))


def is_valid_room_id(room_id: str) -> bool:
    if not isinstance(room_id, str) or not room_id.startswith("!"):
        return False
    if len(room_id.encode("utf-8")) > MAX_ID_LENGTH:
        return False
    # v12 room IDs carry no server name ("!" + unpadded url-safe base64 of a hash).
    return len(room_id) > 1


def is_valid_room_alias(alias: str) -> bool:
    if not isinstance(alias, str) or len(alias.encode("utf-8")) > MAX_ID_LENGTH:
        return False
    parts = split_id(alias, "#")
    return parts is not None and len(parts[0]) > 0


def is_ascii_number(text, max_digits: int = 18) -> bool:
    """Whether ``text`` is 1 to ``max_digits`` ASCII digits: ``str.isdigit`` alone also accepts
    superscripts and other scripts' digits, some of which ``int()`` refuses."""
    return (isinstance(text, str) and 0 < len(text) <= max_digits and text.isascii()
            and text.isdigit())


def user_id_for(localpart: str, server_name: str) -> str:
    return f"@{localpart}:{server_name}"


def server_of(identifier: str) -> str | None:
    """The server-name part of a ``&localpart:server`` identifier, or None."""
    if not isinstance(identifier, str) or ":" not in identifier:
        return None
    return identifier[1:].split(":", 1)[1]
