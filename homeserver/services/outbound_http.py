"""Outgoing HTTP to addresses the operator allows: the one address policy of URL previews
(services/media/fetch.py), push gateways (services/push/sender.py) and the identity servers
clients name (services/identity/client.py); the calls to
configured OpenID Connect providers (services/sso/) use it with a policy of their own, and
application services (services/appservice/client.py), at URLs the operator wrote, with one
that allows any address (``AddressPolicy.trusted``).

A host is resolved here, every address it resolves to is checked, and the connection goes to
the checked address itself (so a DNS answer that changes between check and connect, DNS
rebinding, cannot send the request elsewhere). Private, loopback, link-local, multicast and
reserved ranges are always refused unless an allow-list entry (configuration) names them; the
deny-list refuses more. Redirects are never followed here (a caller that follows them checks
each hop again). Reads are bounded in size and in total time (a deadline, not a per-read
timeout, so a server trickling bytes cannot hold a thread longer).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..identifiers import is_ascii_number

READ_CHUNK = 64 * 1024


class FetchError(Exception):
    """The request failed (network error, bad status, timeout...)."""


class TimedOut(FetchError):
    """The exchange did not end within its time."""


class AddressRefused(FetchError):
    """The host resolves to an address this server may not reach."""


class ResponseTooLarge(FetchError):
    pass


@dataclass(frozen=True)
class AddressPolicy:
    allowlist: tuple
    denylist: tuple

    @classmethod
    def trusted(cls) -> "AddressPolicy":
        """Every address: for URLs the operator configured themselves (application services)."""
        return cls(allowlist=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")),
                   denylist=())

    @classmethod
    def from_config(cls, section: dict) -> "AddressPolicy":
        """From a configuration section with ``ip_range_allowlist`` and ``ip_range_denylist``."""
        return cls(allowlist=tuple(ipaddress.ip_network(n, strict=False)
                                   for n in section["ip_range_allowlist"]),
                   denylist=tuple(ipaddress.ip_network(n, strict=False)
                                  for n in section["ip_range_denylist"]))


def is_address_allowed(address: str, policy: AddressPolicy) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in policy.allowlist):
        return True
    if any(ip.version == net.version and ip in net for net in policy.denylist):
        return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def resolve(host: str, port: int, policy: AddressPolicy) -> str:
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
            raise AddressRefused(f"{host} resolves to an address that may not be reached")
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, address, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, address, timeout, verify_tls=True):
        context = ssl.create_default_context()
        if not verify_tls:  # an operator's test setup only (config: identity_servers)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # Certificate and SNI are checked against the host name, not the pinned address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def connect(scheme: str, host: str, port: int, policy: AddressPolicy,
            deadline: float, *, verify_tls: bool = True) -> http.client.HTTPConnection:
    """A connection (not yet opened) to ``host`` pinned to its checked address."""
    address = resolve(host, port, policy)
    if scheme == "https":
        return _PinnedHTTPSConnection(host, port, address, remaining(deadline), verify_tls)
    return _PinnedHTTPConnection(host, port, address, remaining(deadline))


def remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimedOut("timed out")
    return left


def read_body(response: http.client.HTTPResponse, connection, max_bytes: int,
              deadline: float) -> bytes:
    declared = response.getheader("Content-Length")
    if is_ascii_number(declared, 30) and int(declared) > max_bytes:
        raise ResponseTooLarge("response is too large")
    chunks, size = [], 0
    while True:
        if connection.sock is not None:
            connection.sock.settimeout(remaining(deadline))
        chunk = response.read1(READ_CHUNK) if hasattr(response, "read1") else response.read(
            READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge("response is too large")
        chunks.append(chunk)
    return b"".join(chunks)


def post_json(url: str, body: bytes, policy: AddressPolicy, timeout_s: float,
              max_bytes: int, user_agent: str) -> tuple[int, bytes]:
    """POST ``body`` (JSON) to ``url``; (status, response body). Redirects are answers like
    any other (never followed); the whole exchange ends within ``timeout_s``."""
    return request("POST", url, policy, timeout_s=timeout_s, max_bytes=max_bytes, body=body,
                   headers={"User-Agent": user_agent, "Content-Type": "application/json"})


def request(method: str, url: str, policy: AddressPolicy, *, timeout_s: float, max_bytes: int,
            body: bytes | None = None, headers: dict | None = None,
            verify_tls: bool = True) -> tuple[int, bytes]:
    """One HTTP exchange with ``url``; (status, response body). Redirects are answers like any
    other (never followed); the whole exchange ends within ``timeout_s``. ``verify_tls=False``
    only for a server the operator trusts in a test setup."""
    deadline = time.monotonic() + timeout_s
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("only http and https URLs are supported")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError("bad port") from None
    connection = connect(parts.scheme, parts.hostname, port, policy, deadline,
                         verify_tls=verify_tls)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, target, body=body,
                           headers={"Accept-Encoding": "identity", **(headers or {})})
        if connection.sock is not None:
            connection.sock.settimeout(remaining(deadline))
        response = connection.getresponse()
        return response.status, read_body(response, connection, max_bytes, deadline)
    except TimeoutError:
        raise TimedOut("timed out") from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"request failed: {exc}") from None
    finally:
        connection.close()
