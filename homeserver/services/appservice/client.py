"""HTTP calls from the homeserver to an application service (spec: Application Service API):
transactions, user and room alias queries, third-party lookups and ping. Every call carries
``Authorization: Bearer <hs_token>`` and ends within its timeout; the service's URL is the
operator's, so any address is allowed (outbound_http.AddressPolicy.trusted)."""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

from ... import __version__
from .. import outbound_http
from .registrations import AppService

APP_PREFIX = "/_matrix/app/v1"
USER_AGENT = f"homeserver/{__version__}"
# The largest answer read from a service (query answers and third-party lookups are small).
MAX_RESPONSE_BYTES = 1024 * 1024
_POLICY = outbound_http.AddressPolicy.trusted()


class ServiceError(Exception):
    """The call failed: no URL, connection failure, timeout, or a status other than 2xx."""

    def __init__(self, message: str, status: int | None = None, body: bytes = b"",
                 timed_out: bool = False):
        super().__init__(message)
        self.status = status
        self.body = body
        self.timed_out = timed_out


def call(service: AppService, method: str, path: str, *, body: dict | None = None,
         query: dict | None = None, timeout_s: float) -> tuple[int, bytes]:
    """One request to the service; (status, body) for a 2xx answer, else ServiceError."""
    if query:
        path += "?" + urlencode(query, doseq=True)
    data = json.dumps(body).encode("utf-8") if body is not None else None
    return call_raw(service, method, path, data, timeout_s)


def call_raw(service: AppService, method: str, path: str, data: bytes | None,
             timeout_s: float) -> tuple[int, bytes]:
    """``call`` with the body already encoded (a stored transaction is sent as stored)."""
    if service.url is None:
        raise ServiceError("the application service has no URL")
    try:
        headers = {"User-Agent": USER_AGENT, "Authorization": f"Bearer {service.hs_token}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        status, answer = outbound_http.request(
            method, service.url + APP_PREFIX + path, _POLICY, timeout_s=timeout_s,
            max_bytes=MAX_RESPONSE_BYTES, body=data, headers=headers)
    except outbound_http.FetchError as exc:
        raise ServiceError(str(exc), timed_out=isinstance(exc, outbound_http.TimedOut)) from None
    if not 200 <= status < 300:
        raise ServiceError(f"answered HTTP {status}", status, answer)
    return status, answer


def put_transaction(service: AppService, txn_id: int, body: str, timeout_s: float) -> None:
    call_raw(service, "PUT", f"/transactions/{txn_id}", body.encode("utf-8"), timeout_s)


def query_exists(service: AppService, kind: str, identifier: str, timeout_s: float) -> bool:
    """GET /users/{userId} or /rooms/{alias}: True when the service says it made it exist."""
    try:
        call(service, "GET", f"/{kind}/{quote(identifier, safe='')}", timeout_s=timeout_s)
    except ServiceError:
        return False
    return True


def json_answer(service: AppService, path: str, query: dict | None,
                timeout_s: float) -> object:
    """GET ``path`` and its JSON answer (ServiceError when not JSON)."""
    _, answer = call(service, "GET", path, query=query, timeout_s=timeout_s)
    try:
        return json.loads(answer)
    except ValueError:
        raise ServiceError("answered with something that is not JSON") from None
