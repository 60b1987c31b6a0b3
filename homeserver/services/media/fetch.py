"""Fetching a URL for a preview without letting it reach anything but the public internet.

Every hop (the URL and each redirect) is resolved here, every resolved address is checked, and
the connection goes to the checked address itself (so a DNS answer that changes between check
and connect cannot send the request elsewhere). Private, loopback, link-local, multicast and
reserved ranges are always refused unless an allow-list entry (configuration) names them. The
body is read in chunks, bounded in size and in total time.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from ...identifiers import is_ascii_number

USER_AGENT = "homeserver URL preview"
READ_CHUNK = 64 * 1024
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """The URL could not be fetched (network error, bad status, timeout...)."""


class AddressRefused(FetchError):
    """The URL resolves to an address previews may not reach."""


class ResponseTooLarge(FetchError):
    pass


@dataclass(frozen=True)
class FetchPolicy:
    allowlist: tuple
    denylist: tuple
    max_bytes: int
    timeout_s: float
    max_redirects: int

    @classmethod
    def from_config(cls, preview_config: dict, max_bytes: int | None = None) -> "FetchPolicy":
        return cls(
            allowlist=tuple(ipaddress.ip_network(n, strict=False)
                            for n in preview_config["ip_range_allowlist"]),
            denylist=tuple(ipaddress.ip_network(n, strict=False)
                           for n in preview_config["ip_range_denylist"]),
            max_bytes=max_bytes or preview_config["max_page_size"],
            timeout_s=preview_config["timeout_s"],
            max_redirects=preview_config["max_redirects"])


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


def is_address_allowed(address: str, policy: FetchPolicy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in policy.allowlist):
        return True
    if any(ip.version == net.version and ip in net for net in policy.denylist):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def resolve(host: str, port: int, policy: FetchPolicy) -> str:
    """The address to connect to; AddressRefused if any address of ``host`` is not allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    for address in addresses:
        if not is_address_allowed(address, policy):
            raise AddressRefused(f"{host} resolves to an address that may not be fetched")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise FetchError("timed out")
    return left


def _read_body(response: http.client.HTTPResponse, connection, policy: FetchPolicy,
               deadline: float) -> bytes:
    declared = response.getheader("Content-Length")
    if is_ascii_number(declared, 30) and int(declared) > policy.max_bytes:
        raise ResponseTooLarge("response is too large")
    chunks, size = [], 0
    while True:
        if connection.sock is not None:
            connection.sock.settimeout(_remaining(deadline))
        chunk = response.read1(READ_CHUNK) if hasattr(response, "read1") else response.read(
            READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > policy.max_bytes:
            raise ResponseTooLarge("response is too large")
        chunks.append(chunk)
    return b"".join(chunks)


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
        address = resolve(parts.hostname, port, policy)
        connection_class = (_PinnedHTTPSConnection if parts.scheme == "https"
                            else _PinnedHTTPConnection)
        connection = connection_class(parts.hostname, port, address, _remaining(deadline))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("GET", target, headers={
                "User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"})
            response = connection.getresponse()
            if response.status in REDIRECT_STATUSES and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location"))
                continue
            body = _read_body(response, connection, policy, deadline)
            return Fetched(url, response.status, response.getheader("Content-Type") or "", body)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"fetch failed: {exc}") from None
        finally:
            connection.close()
    raise FetchError("too many redirects")
