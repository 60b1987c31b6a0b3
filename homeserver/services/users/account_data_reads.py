"""Account data as clients read it (GET .../account_data/{type} and the /sync stream): the
stored documents, with ``m.push_rules`` always computed from the push-rule tables (spec: Client
Config, Server Behaviour).

Kept apart from ``account_data`` (the store), which push rules write through when they change.
"""

from __future__ import annotations

import json

from ... import errors
from ...models.account_data import GLOBAL, AccountData
from ..push import rules as push_rules
from ..userdata import account_data
from ..userdata.account_data import PUSH_RULES


def get_for_client(requester_user_id: str, user_id: str, data_type: str,
                   room_id: str | None = None) -> dict:
    """GET /user/{userId}[/rooms/{roomId}]/account_data/{type}."""
    account_data.check_owner(requester_user_id, user_id, "read")
    if room_id is not None:
        account_data.check_room_id(room_id)
    if room_id is None and data_type == PUSH_RULES:
        return push_rules.account_data_content(user_id)
    content = account_data.get(user_id, data_type, room_id=room_id)
    if content is None:
        where = "Room account data" if room_id is not None else "Account data"
        raise errors.NotFound(f"{where} not found")
    return content


class Changes:
    """Account data of one user written in a stream range, as sync events."""

    def __init__(self):
        self.global_events: list[dict] = []
        self.room_events: dict[str, list[dict]] = {}


def changes(user_id: str, since: int | None, until: int) -> Changes:
    """Account data written after ``since`` (everything when None) up to ``until``.

    m.push_rules is always computed from the rule tables; on a full sync (``since`` None) it is
    included even when the user never changed a rule, as clients expect it there.
    """
    query = AccountData.select().where((AccountData.user_id == user_id)
                                       & (AccountData.stream_id <= until))
    if since is not None:
        query = query.where(AccountData.stream_id > since)
    out = Changes()
    saw_push_rules = False
    for row in query.order_by(AccountData.stream_id):
        if row.room_id == GLOBAL:
            if row.type == PUSH_RULES:
                saw_push_rules = True
                continue
            out.global_events.append({"type": row.type, "content": json.loads(row.content)})
        else:
            out.room_events.setdefault(row.room_id, []).append(
                {"type": row.type, "content": json.loads(row.content)})
    if saw_push_rules or since is None:
        out.global_events.append({"type": PUSH_RULES,
                                  "content": push_rules.account_data_content(user_id)})
    return out
