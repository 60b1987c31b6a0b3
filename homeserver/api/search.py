"""POST /v3/search."""

from flask import Blueprint, jsonify

from ..schemas.search import SearchArgs, SearchBodySchema
from ..services.reading import search
from ..services.reading.filters import EventFilter
from .http import CLIENT_PREFIX, load_args, load_body, require_auth

bp = Blueprint("search", __name__, url_prefix=f"{CLIENT_PREFIX}/v3")


def _criteria(data: dict | None) -> search.Criteria | None:
    if data is None:
        return None
    groups = (data.get("groupings") or {}).get("group_by") or []
    return search.Criteria(
        search_term=data["search_term"],
        keys=tuple(dict.fromkeys(data["keys"])) if "keys" in data else search.KEYS,
        event_filter=EventFilter.from_definition(data.get("filter")),
        order_by=data["order_by"],
        event_context=data.get("event_context"),
        include_state=data["include_state"],
        group_by=tuple(dict.fromkeys(group["key"] for group in groups)))


@bp.post("/search")
def post_search():
    requester = require_auth()
    args = load_args(SearchArgs)
    body = load_body(SearchBodySchema)
    criteria = _criteria(body["search_categories"].get("room_events"))
    return jsonify(search.search(requester.user_id, requester.device_id, criteria,
                                 args.get("next_batch") or None))
