"""The client's ``redirectUrl``: what is accepted, which clients are trusted, and the URL the
browser finally goes to with its ``loginToken``.

Spec: SSO client login, server behaviour, steps 4-5 and "Security considerations" 1: a login
token goes straight only to a client on ``sso.client_whitelist``; any other redirectUrl gets a
page that names the site and asks the person to confirm (Synapse's approach), so a link to
``/login/sso/redirect?redirectUrl=https://evil.example`` does not hand an account over.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ... import errors

MAX_REDIRECT_URL_LENGTH = 2048
# Schemes that run or embed content instead of opening a client.
_REFUSED_SCHEMES = frozenset({"javascript", "data", "vbscript", "file", "blob", "about"})


def check_redirect_url(url) -> str:
    """The client's redirectUrl if a browser can be sent there; M_INVALID_PARAM otherwise.
    Custom schemes of native clients (``im.example.app:/callback``) are accepted."""
    if not isinstance(url, str) or not url:
        raise errors.MissingParam("Missing parameter: redirectUrl")
    if len(url) > MAX_REDIRECT_URL_LENGTH or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise errors.InvalidParam("redirectUrl is not a usable URL")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise errors.InvalidParam("redirectUrl is not a usable URL") from None
    scheme = parts.scheme.lower()
    if not scheme or scheme in _REFUSED_SCHEMES:
        raise errors.InvalidParam("redirectUrl must be an absolute URL of a client")
    if scheme in ("http", "https") and not parts.hostname:
        raise errors.InvalidParam("redirectUrl must name a host")
    return url


def is_whitelisted(url: str, whitelist: list[str]) -> bool:
    return any(url.startswith(prefix) for prefix in whitelist)


def with_login_token(url: str, login_token: str) -> str:
    """``url`` with ``loginToken`` set (any it had removed), other parameters kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k != "loginToken"]
    query.append(("loginToken", login_token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def site_name(url: str) -> str:
    """What the confirmation page calls the client: its host, or its scheme for an app."""
    parts = urlsplit(url)
    return parts.hostname or f"{parts.scheme}:"
