"""Open Graph tags (and the title and description as fallbacks) from an HTML page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ...identifiers import is_ascii_number

MAX_VALUE_LENGTH = 1000
MAX_TAGS = 50
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_INTEGER_KEYS = {"og:image:width", "og:image:height", "og:video:width", "og:video:height"}


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.og: dict[str, str] = {}
        self.title: str | None = None
        self.description: str | None = None
        self._title_parts: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = {name.lower(): value for name, value in attrs if value is not None}
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").strip()
            content = attributes.get("content")
            if content is None or not key:
                return
            if key.lower().startswith("og:") and key not in self.og and len(self.og) < MAX_TAGS:
                self.og[key] = content.strip()[:MAX_VALUE_LENGTH]
            elif key.lower() == "description" and self.description is None:
                self.description = content.strip()[:MAX_VALUE_LENGTH]
        elif tag == "title" and self.title is None:
            self._title_parts = []

    def handle_data(self, data):
        if self._title_parts is not None:
            self._title_parts.append(data)

    def handle_endtag(self, tag):
        if tag == "title" and self._title_parts is not None:
            self.title = " ".join("".join(self._title_parts).split())[:MAX_VALUE_LENGTH]
            self._title_parts = None


def decode_html(body: bytes, content_type: str) -> str:
    """Text of a page: the charset from Content-Type, else a <meta charset>, else UTF-8."""
    charset = None
    match = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", content_type or "", re.I)
    if match:
        charset = match.group(1)
    else:
        meta = _META_CHARSET.search(body[:4096])
        if meta:
            charset = meta.group(1).decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def parse(html: str) -> dict:
    parser = _Parser()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass  # malformed markup: keep whatever was read
    og: dict = dict(parser.og)
    if "og:title" not in og and parser.title:
        og["og:title"] = parser.title
    if "og:description" not in og and parser.description:
        og["og:description"] = parser.description
    for key in _INTEGER_KEYS & og.keys():
        value = og[key]
        if is_ascii_number(value, 9):
            og[key] = int(value)
        else:
            del og[key]
    return og
