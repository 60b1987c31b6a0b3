"""Request helpers shared by every blueprint: JSON bodies, schemas, query args, authentication."""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app, g, request
from marshmallow import Schema, ValidationError

from .. import errors
from ..services import json_input
from ..services.accounts import access_tokens
from ..services.appservice import requesters
from ..services.policy import ratelimit
from . import guest_access

CLIENT_PREFIX = "/_matrix/client"


def raw_json() -> Any:
    """The request body parsed as JSON, whatever the Content-Type header says.

    Clients sometimes omit Content-Type, so Flask's get_json (which answers 415 then) is not used.
    NaN/Infinity are refused: they are not JSON. Nesting deeper than ``requests.max_json_depth``
    answers M_BAD_JSON (see services/json_input.py).
    """
    data = request.get_data(cache=True)
    if not data.strip():
        raise errors.NotJson("Request body is empty; expected a JSON object")
    try:
        return json_input.loads(data, max_depth=max_json_depth())
    except json_input.Refused as exc:
        raise errors.BadJson(str(exc)) from None
    except ValueError:
        raise errors.NotJson("Content not JSON") from None


def max_json_depth() -> int:
    return config().requests["max_json_depth"]


def json_body(*, allow_empty: bool = False) -> dict:
    """The body as a JSON object (M_NOT_JSON if not JSON, M_BAD_JSON if not an object)."""
    if allow_empty and not request.get_data(cache=True).strip():
        return {}
    body = raw_json()
    if not isinstance(body, dict):
        raise errors.BadJson("Request body must be a JSON object")
    return body


def _field_error(messages: Any) -> tuple[str, str]:
    """(field path, first message) from marshmallow's nested error messages."""
    path = []
    while isinstance(messages, dict) and messages:
        key, messages = next(iter(messages.items()))
        if key != "_schema":
            path.append(str(key))
    while isinstance(messages, list) and messages:
        messages = messages[0]
        if isinstance(messages, dict):
            sub_path, text = _field_error(messages)
            return ".".join(path + [sub_path]).strip("."), text
    return ".".join(path), str(messages)


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    """A schema class's one shared instance: building one deep-copies its fields, about 60 us
    on every request, and loading changes nothing in it."""
    return schema()


def load_body(schema: type[Schema], body: dict | None = None, *,
              missing_errcode=None) -> dict:
    """Validate a JSON object body with a schema; failures answer M_BAD_JSON naming the field.

    ``missing_errcode`` (an error class) answers a missing required field with another code,
    for endpoints where the spec asks for M_MISSING_PARAM.
    """
    if body is None:
        body = json_body()
    try:
        return _instance(schema).load(body)
    except ValidationError as exc:
        field, text = _field_error(exc.messages)
        if missing_errcode is not None and text == "Missing data for required field.":
            raise missing_errcode(f"Missing required field: {field}") from None
        raise errors.BadJson(f"Invalid field '{field}': {text}" if field else text) from None


def load_args(schema: type[Schema]) -> dict:
    """Validate query arguments; a missing one answers M_MISSING_PARAM, a bad one M_INVALID_PARAM."""
    try:
        return _instance(schema).load(request.args.to_dict())
    except ValidationError as exc:
        field, text = _field_error(exc.messages)
        if text == "Missing data for required field.":
            raise errors.MissingParam(f"Missing query parameter: {field}") from None
        raise errors.InvalidParam(f"Invalid query parameter '{field}': {text}") from None


def access_token_from_request() -> str | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    token = request.args.get("access_token")
    return token or None


def client_ip() -> str | None:
    """The client's address; behind nginx, ProxyFix (see create_app) makes this the real one."""
    return request.remote_addr


def require_auth(*, allow_locked: bool = False) -> access_tokens.Requester:
    """The requester for this request; M_MISSING_TOKEN / M_UNKNOWN_TOKEN otherwise, and
    M_GUEST_ACCESS_FORBIDDEN for a guest at an endpoint not open to guests (guest_access.py).

    ``allow_locked``: for the endpoints a locked account may still use (logout, logout/all).
    """
    cached = g.get("requester")
    if cached is not None:
        return cached
    token = access_token_from_request()
    if token is None:
        raise errors.MissingToken()
    service = config().app_services.by_token(token)
    if service is not None:
        requester = requesters.requester_for(
            service, request.args.get("user_id"),
            request.args.get("device_id") or request.args.get("org.matrix.msc3202.device_id"),
            config().server_name)
    else:
        requester = access_tokens.authenticate(token, client_ip(), allow_locked=allow_locked,
                                               user_agent=request.headers.get("User-Agent"))
    guest_access.check(request.endpoint, request.view_args, requester)
    g.requester = requester
    return requester


def require_server_admin() -> access_tokens.Requester:
    """The requester, who must be a server admin (403 M_FORBIDDEN before anything is read)."""
    requester = require_auth()
    if not requester.is_admin:
        raise errors.Forbidden("You are not a server admin")
    return requester


def require_app_service():
    """The application service whose as_token authenticates this request (M_MISSING_TOKEN,
    M_UNKNOWN_TOKEN, or M_FORBIDDEN for a user's own access token)."""
    token = access_token_from_request()
    if token is None:
        raise errors.MissingToken()
    service = config().app_services.by_token(token)
    if service is None:
        # An unknown token is M_UNKNOWN_TOKEN, a guest's M_GUEST_ACCESS_FORBIDDEN as anywhere.
        requester = access_tokens.authenticate(token, client_ip())
        guest_access.check(request.endpoint, request.view_args, requester)
        raise errors.Forbidden("This request needs an application service's as_token")
    return service


def optional_auth() -> access_tokens.Requester | None:
    """The requester when a token is given (a bad token still fails), else None."""
    if access_token_from_request() is None:
        return None
    return require_auth()


def config():
    return current_app.config["HOMESERVER"]


def rate_rule(name: str) -> dict | None:
    """The configured rule ``rate_limits.<name>``, or None when rate limits are off."""
    return ratelimit.rule(config().rate_limits, name)


def rate_limit(key_kind: str, ip: str, rule_name: str) -> None:
    """Count this request of the client address ``ip`` under ``rate_limits.<rule_name>``
    (M_LIMIT_EXCEEDED when full): registration, SSO and email validation, before anything is
    parsed. A requester's actions are counted by the services they call
    (``ratelimit.charge``, with ``rate_rule``'s rule passed in)."""
    ratelimit.check(key_kind, ip, rate_rule(rule_name))


def private_page(response):
    """``after_request`` of pages that take a secret or hold one in their URL (the UIA
    fallback, the email validation pages): never framed (clickjacking), cached, nor their URL
    sent on as a referrer."""
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
