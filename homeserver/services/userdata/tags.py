"""Room tags: kept as the ``m.tag`` room account data event (content ``{"tags": {...}}``)."""

from __future__ import annotations

from ... import errors
from ...db import write_transaction
from ..user_lock import lock_user
from . import account_data

TAG_TYPE = "m.tag"
MAX_TAG_BYTES = 255


def _check(requester_user_id: str, user_id: str, room_id: str) -> None:
    if requester_user_id != user_id:
        raise errors.Forbidden("Cannot access tags of other users")
    account_data.check_room_id(room_id)


def _current(user_id: str, room_id: str) -> dict:
    content = account_data.get(user_id, TAG_TYPE, room_id=room_id) or {}
    tags = content.get("tags")
    return dict(tags) if isinstance(tags, dict) else {}


def get_tags(requester_user_id: str, user_id: str, room_id: str) -> dict:
    _check(requester_user_id, user_id, room_id)
    return {"tags": _current(user_id, room_id)}


def set_tag(requester_user_id: str, user_id: str, room_id: str, tag: str, body: dict,
            limits: dict | None = None) -> None:
    """Add or replace a tag. The read-modify-write of the m.tag document runs under the user's
    row lock: concurrent PUTs of different tags would otherwise each write back the document
    they read, losing the other's tag (PostgreSQL READ COMMITTED)."""
    _check(requester_user_id, user_id, room_id)
    if not tag or len(tag.encode("utf-8")) > MAX_TAG_BYTES:
        raise errors.InvalidParam(f"Tag names must be 1 to {MAX_TAG_BYTES} bytes")
    with write_transaction():
        lock_user(user_id)
        tags = _current(user_id, room_id)
        if limits is not None and tag not in tags and len(tags) >= limits["max_tags_per_room"]:
            raise errors.UserLimitExceeded(
                f"A room cannot have more than {limits['max_tags_per_room']} tags")
        if not tags:
            account_data.check_room_for_type(user_id, TAG_TYPE, room_id, limits)
        tags[tag] = body
        account_data.put(user_id, TAG_TYPE, {"tags": tags}, room_id=room_id)


def delete_tag(requester_user_id: str, user_id: str, room_id: str, tag: str) -> None:
    _check(requester_user_id, user_id, room_id)
    with write_transaction():
        lock_user(user_id)
        tags = _current(user_id, room_id)
        if tag in tags:
            del tags[tag]
            account_data.put(user_id, TAG_TYPE, {"tags": tags}, room_id=room_id)
