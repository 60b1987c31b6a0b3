"""GET /keys/changes: whose keys changed between two sync tokens."""

from __future__ import annotations

from ...reading.stream_tokens import parse_sync_token
from ...streams.positions import current_position
from .. import device_lists


def key_changes(user_id: str, from_token: str, to_token: str) -> dict:
    now = current_position()
    since = parse_sync_token(from_token, now)
    upto = parse_sync_token(to_token, now)
    if upto < since:
        since, upto = upto, since
    changed, left = device_lists.changes_between(user_id, since, upto)
    return {"changed": changed, "left": left}
