"""POST /_matrix/client/v1/appservice/{appserviceId}/ping: the homeserver calls the service's
POST /_matrix/app/v1/ping and says how long it took (spec: Client-Server API, Application
Service Ping API)."""

from __future__ import annotations

import time

from ... import errors
from . import client
from .registrations import AppService

# The spec leaves the time open; a service that needs longer to answer a ping is not working.
PING_TIMEOUT_S = 15.0


def ping(service: AppService | None, appservice_id: str, transaction_id: str | None) -> dict:
    if service is None or service.id != appservice_id:
        raise errors.Forbidden("Provided access token is not the appservice's as_token")
    if service.url is None:
        raise errors.UrlNotSet()
    body = {} if transaction_id is None else {"transaction_id": transaction_id}
    started = time.monotonic()
    try:
        client.call(service, "POST", "/ping", body=body, timeout_s=PING_TIMEOUT_S)
    except client.ServiceError as exc:
        if exc.timed_out:
            raise errors.ConnectionTimeout() from None
        if exc.status is not None:
            failure = errors.BadStatus(f"Ping returned status {exc.status}",
                                       body=exc.body.decode("utf-8", "replace")[:10_000])
            failure.extra["status"] = exc.status  # a response field, not the HTTP status
            raise failure from None
        raise errors.ConnectionFailed(f"Ping failed: {exc}") from None
    return {"duration_ms": int((time.monotonic() - started) * 1000)}
