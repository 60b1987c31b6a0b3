"""POST /user/{userId}/filter, GET /user/{userId}/filter/{filterId}; parsing a ``filter``
query argument (an ID or inline JSON) for the endpoints that take one."""

from __future__ import annotations

from flask import Blueprint, jsonify
from marshmallow import Schema

from .. import errors
from ..schemas.filters import FilterSchema, RoomEventFilterSchema
from ..services import json_input
from ..services.reading import filters
from .http import CLIENT_PREFIX, config, json_body, load_body, max_json_depth, require_auth

bp = Blueprint("filters", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


@bp.post("/user/<user_id>/filter")
def define_filter(user_id: str):
    requester = require_auth()
    body = json_body()
    load_body(FilterSchema, body)
    # Validation drops unknown (e.g. unstable) keys; the filter stored is the one sent.
    filter_id = filters.create_filter(requester.user_id, user_id, body,
                                      config().per_user_limits["max_filters"])
    return jsonify(filter_id=filter_id)


@bp.get("/user/<user_id>/filter/<filter_id>")
def get_filter(user_id: str, filter_id: str):
    requester = require_auth()
    return jsonify(filters.get_filter(requester.user_id, user_id, filter_id))


def _parse_inline(value: str, schema: type[Schema]) -> dict:
    try:
        data = json_input.loads(value, max_depth=max_json_depth())
    except json_input.Refused as exc:
        raise errors.InvalidParam(f"Invalid filter query parameter: {exc}") from None
    except ValueError:
        raise errors.InvalidParam("The filter query parameter is not valid JSON") from None
    if not isinstance(data, dict):
        raise errors.InvalidParam("The filter query parameter must be a JSON object")
    try:
        load_body(schema, data)
    except errors.BadJson as exc:
        raise errors.BadJson(f"Invalid filter: {exc.message}") from None
    return data


def filter_arg(value: str | None) -> dict | str | None:
    """The ``filter`` argument of /sync: a validated inline Filter, a filter ID, or None."""
    if value is None or value == "":
        return None
    if value.lstrip().startswith("{"):
        return _parse_inline(value, FilterSchema)
    return value


def room_event_filter_arg(value: str | None) -> dict | str | None:
    """The ``filter`` argument of /messages and /context: an inline RoomEventFilter (or an ID)."""
    if value is None or value == "":
        return None
    if value.lstrip().startswith("{"):
        return _parse_inline(value, RoomEventFilterSchema)
    return value
