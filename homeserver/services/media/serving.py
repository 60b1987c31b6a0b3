"""Response headers that make serving user-uploaded bytes safe (spec: Content repository,
security considerations and "Serving inline content")."""

from __future__ import annotations

from urllib.parse import quote

# Only these types are served inline; everything else is an attachment.
INLINE_CONTENT_TYPES = frozenset({
    "text/css", "text/plain", "text/csv", "application/json", "application/ld+json",
    "image/jpeg", "image/gif", "image/png", "image/apng", "image/webp", "image/avif",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime",
    "audio/mp4", "audio/webm", "audio/aac", "audio/mpeg", "audio/ogg", "audio/wave", "audio/wav",
    "audio/x-wav", "audio/x-pn-wav", "audio/flac", "audio/x-flac",
})

CONTENT_SECURITY_POLICY = ("sandbox; default-src 'none'; script-src 'none'; "
                           "plugin-types application/pdf; style-src 'unsafe-inline'; "
                           "object-src 'self';")

# RFC 5987 attr-char: what may appear unescaped in filename*=.
_ATTR_CHARS = "!#$&+-.^_`|~"


def media_type(content_type: str) -> str:
    """``text/plain; charset=utf-8`` -> ``text/plain``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_inline_safe(content_type: str) -> bool:
    return media_type(content_type) in INLINE_CONTENT_TYPES


def content_disposition(disposition: str, filename: str | None) -> str:
    """``inline`` / ``attachment`` with the file name encoded so every client reads it back
    unchanged: a plain quoted name when it is printable ASCII without quotes or backslashes,
    otherwise RFC 6266's ``filename*=utf-8''...`` (percent-encoded UTF-8)."""
    if not filename:
        return disposition
    if all(0x20 <= ord(ch) < 0x7F for ch in filename) and '"' not in filename \
            and "\\" not in filename:
        return f'{disposition}; filename="{filename}"'
    return f"{disposition}; filename*=utf-8''{quote(filename, safe=_ATTR_CHARS)}"


def security_headers() -> dict:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }


def download_headers(content_type: str, filename: str | None) -> dict:
    disposition = "inline" if is_inline_safe(content_type) else "attachment"
    return {**security_headers(), "Content-Disposition": content_disposition(disposition, filename)}
