"""GET /v1/mutual_rooms (spec module "Mutual Rooms"): the rooms the requester and another
user are both joined to, in pages.

Pages hold ``PAGE_SIZE`` room IDs in room-ID order; ``next_batch`` is an opaque token naming
the last room ID sent, so a page continues after it even when memberships changed in between
(the spec allows omitting rooms joined after the first token). Tokens do not expire.
"""

from __future__ import annotations

import base64
import binascii

from ... import errors, identifiers
from ...models.rooms import CurrentState
from ..rooms.state import joined_rooms_query

PAGE_SIZE = 100
_TOKEN_PREFIX = "mr1."


def _encode_token(room_id: str) -> str:
    return _TOKEN_PREFIX + base64.urlsafe_b64encode(room_id.encode("utf-8")).decode("ascii")


def _decode_token(token: str) -> str:
    invalid = errors.InvalidParam("Invalid or expired 'from' token")
    if not token.startswith(_TOKEN_PREFIX):
        raise invalid
    try:
        room_id = base64.urlsafe_b64decode(token[len(_TOKEN_PREFIX):].encode("ascii")).decode()
    except (ValueError, binascii.Error, UnicodeError):
        raise invalid from None
    if not identifiers.is_valid_room_id(room_id):
        raise invalid
    return room_id


def mutual_rooms(requester_id: str, other_user_id: str, from_token: str | None = None,
                 ) -> dict:
    page_size = PAGE_SIZE
    parts = identifiers.split_id(other_user_id, "@")
    if parts is None or not parts[0] or not identifiers.is_valid_user_id(other_user_id):
        raise errors.InvalidParam("The user ID provided was invalid")
    if other_user_id == requester_id:
        raise errors.InvalidParam("user_id must be another user than yourself")
    after = _decode_token(from_token) if from_token is not None else None
    shared = joined_rooms_query(requester_id).where(
        CurrentState.room_id.in_(joined_rooms_query(other_user_id)))
    count = shared.count()
    page = shared.order_by(CurrentState.room_id)
    if after is not None:
        page = page.where(CurrentState.room_id > after)
    room_ids = [room_id for (room_id,) in page.limit(page_size + 1).tuples()]
    body: dict = {"joined": room_ids[:page_size], "count": count}
    if len(room_ids) > page_size:
        body["next_batch"] = _encode_token(room_ids[page_size - 1])
    return body
