"""Fetching a URL for a preview without letting it reach anything but the public internet.

The address policy is services/outbound_http.py's (shared with push gateways): every hop (the
URL and each redirect) is resolved and checked there, and the connection goes to the checked
address itself. The body is read in chunks, bounded in size and in total time.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ..outbound_http import (AddressPolicy, AddressRefused, FetchError, ResponseTooLarge,
                             connect, read_body)

__all__ = ["AddressRefused", "FetchError", "FetchPolicy", "Fetched", "ResponseTooLarge",
           "fetch"]

USER_AGENT = "homeserver URL preview"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class FetchPolicy:
    addresses: AddressPolicy
    max_bytes: int
    timeout_s: float
    max_redirects: int

    @classmethod
    def from_config(cls, preview_config: dict, max_bytes: int | None = None) -> "FetchPolicy":
        return cls(
            addresses=AddressPolicy.from_config(preview_config),
            max_bytes=max_bytes or preview_config["max_page_size"],
            timeout_s=preview_config["timeout_s"],
            max_redirects=preview_config["max_redirects"])


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


def fetch(url: str, policy: FetchPolicy, accept: str = "*/*") -> Fetched:
    deadline = time.monotonic() + policy.timeout_s
    for _hop in range(policy.max_redirects + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError("only http and https URLs can be previewed")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError("bad port") from None
        connection = connect(parts.scheme, parts.hostname, port, policy.addresses, deadline)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={
                "User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"})
            response = connection.getresponse()
            if response.status in REDIRECT_STATUSES and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location"))
                continue
            body = read_body(response, connection, policy.max_bytes, deadline)
            return Fetched(url, response.status, response.getheader("Content-Type") or "", body)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"fetch failed: {exc}") from None
        finally:
            connection.close()
    raise FetchError("too many redirects")
