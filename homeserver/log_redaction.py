"""Secrets out of log lines: query parameters that carry credentials (``access_token=``, the
``token`` and ``client_secret`` of validation links, ...) have their values replaced.

Used by gunicorn's logger (gunicorn.conf.py) for the access log's request line, query string
and referer, and for the error log's messages (gunicorn logs a failing request's URI there).
A parameter name is compared after percent-decoding, as the server reads it, so
``access%5Ftoken=`` is redacted too. Clients should send tokens in the Authorization header;
this is for those that do not.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

REDACTED = "<redacted>"
SECRET_PARAMETERS = frozenset({
    "access_token", "refresh_token", "token", "login_token", "logintoken", "client_secret",
    "password",
    # OpenID Connect callbacks (services/sso/): the authorization code and the attempt's state.
    "code", "state",
})
_PARAMETER = re.compile(r"([?&;])([^=&\s\"?;#]*)=([^&\s\"#;]*)")


def _replace(match: re.Match) -> str:
    if unquote_plus(match.group(2)).lower() in SECRET_PARAMETERS:
        return f"{match.group(1)}{match.group(2)}={REDACTED}"
    return match.group(0)


def redact(text: str) -> str:
    """``text`` (a URI, a request line, a log message) with secret parameter values replaced."""
    if not isinstance(text, str) or "=" not in text:
        return text
    return _PARAMETER.sub(_replace, text)


def redact_query(query: str) -> str:
    """A bare query string (no leading ``?``) with secret parameter values replaced."""
    if not isinstance(query, str) or "=" not in query:
        return query
    return redact("?" + query)[1:]
