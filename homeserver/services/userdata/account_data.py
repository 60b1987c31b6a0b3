"""Account data: per-user JSON documents, global or scoped to a room, synced to every device.

Every write takes a stream position (services/streams/positions.py) so /sync delivers it. Two types
are managed by the server and refused on PUT (spec: Client Config, Server Behaviour):
``m.fully_read`` (set through /read_markers) and ``m.push_rules`` (set through /pushrules, and
always read as the user's current rule set).

``m.ignored_user_list`` is mirrored into IgnoredUser rows so other services can ask who ignores
whom with one indexed query (``ignored_users``, ``users_ignoring``).
"""

from __future__ import annotations

import json

from ... import errors
from ...db import run_sql, write_transaction
from ...identifiers import is_valid_room_id, is_valid_user_id
from ...models.account_data import GLOBAL, AccountData, IgnoredUser
from ..streams.positions import next_position
from ..user_lock import lock_user

SERVER_MANAGED_TYPES = frozenset({"m.fully_read", "m.push_rules"})
IGNORED_USER_LIST = "m.ignored_user_list"
PUSH_RULES = "m.push_rules"
MAX_TYPE_LENGTH = 255


def check_owner(requester_user_id: str, user_id: str, verb: str) -> None:
    if requester_user_id != user_id:
        raise errors.Forbidden(f"Cannot {verb} account data for other users")


def check_room_id(room_id: str) -> None:
    if not is_valid_room_id(room_id):
        raise errors.InvalidParam(f"{room_id} is not a valid room ID")


def _check_type(data_type: str) -> None:
    if not data_type or len(data_type) > MAX_TYPE_LENGTH:
        raise errors.InvalidParam(f"Account data type must be 1 to {MAX_TYPE_LENGTH} characters")


# --- client operations --------------------------------------------------------------------------

def set_for_client(requester_user_id: str, user_id: str, data_type: str, content: dict,
                   room_id: str | None = None, limits: dict | None = None) -> None:
    """PUT /user/{userId}[/rooms/{roomId}]/account_data/{type}. ``limits``: the
    ``per_user_limits`` configuration (how many types a user may keep)."""
    check_owner(requester_user_id, user_id, "add")
    if room_id is not None:
        check_room_id(room_id)
    _check_type(data_type)
    if data_type in SERVER_MANAGED_TYPES:
        raise errors.BadJson(f"Cannot set {data_type} through this API", status=405)
    if data_type == IGNORED_USER_LIST:
        _check_ignored_user_list(content)
    with write_transaction():
        lock_user(user_id)
        check_room_for_type(user_id, data_type, room_id, limits)
        put(user_id, data_type, content, room_id=room_id)


def check_room_for_type(user_id: str, data_type: str, room_id: str | None,
                        limits: dict | None) -> None:
    """M_USER_LIMIT_EXCEEDED when storing ``data_type`` would add a row past the user's caps
    (a type already stored can always be replaced). Call under ``lock_user`` in the write
    transaction, so that concurrent writes cannot together pass a cap."""
    if limits is None:
        return
    room_key = room_id if room_id is not None else GLOBAL
    owned = AccountData.user_id == user_id
    if AccountData.select(AccountData.type).where(
            owned & (AccountData.room_id == room_key) & (AccountData.type == data_type)).exists():
        return
    if room_id is None:
        caps = [(owned & (AccountData.room_id == GLOBAL), limits["max_account_data_types"],
                 "global account data types")]
    else:
        caps = [(owned & (AccountData.room_id == room_key),
                 limits["max_room_account_data_types"], "account data types in one room"),
                (owned & (AccountData.room_id != GLOBAL), limits["max_room_account_data_total"],
                 "room account data entries")]
    for where, cap, what in caps:
        if AccountData.select().where(where).count() >= cap:
            raise errors.UserLimitExceeded(f"You cannot have more than {cap} {what}")


def _check_ignored_user_list(content: dict) -> None:
    ignored = content.get("ignored_users", {})
    if not isinstance(ignored, dict):
        raise errors.BadJson("ignored_users must be an object mapping user IDs to objects")


# --- storage ------------------------------------------------------------------------------------

def put(user_id: str, data_type: str, content: dict, *, room_id: str | None = None) -> int:
    """Store account data (no checks: server-side writers use this). Returns its position."""
    room_key = room_id if room_id is not None else GLOBAL
    text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    with write_transaction():
        position = next_position(users=[user_id])
        (AccountData
         .insert(user_id=user_id, room_id=room_key, type=data_type, content=text,
                 stream_id=position)
         .on_conflict(conflict_target=[AccountData.user_id, AccountData.room_id,
                                       AccountData.type],
                      update={AccountData.content: text, AccountData.stream_id: position})
         .execute())
        if data_type == IGNORED_USER_LIST and room_id is None:
            _replace_ignored_users(user_id, content)
    return position


def get(user_id: str, data_type: str, *, room_id: str | None = None) -> dict | None:
    row = (AccountData.select(AccountData.content)
           .where((AccountData.user_id == user_id)
                  & (AccountData.room_id == (room_id if room_id is not None else GLOBAL))
                  & (AccountData.type == data_type))
           .first())
    return json.loads(row.content) if row is not None else None


def room_events(user_id: str, room_id: str) -> list[dict]:
    """The user's account data events of one room (m.tag among them), oldest write first."""
    query = (AccountData.select(AccountData.type, AccountData.content)
             .where((AccountData.user_id == user_id) & (AccountData.room_id == room_id))
             .order_by(AccountData.stream_id))
    return [{"type": row.type, "content": json.loads(row.content)} for row in query]


def bump(user_id: str, data_type: str, *, room_id: str | None = None) -> int:
    """Give a server-computed type (m.push_rules) a new position so syncs deliver it again."""
    return put(user_id, data_type, {}, room_id=room_id)


def latest_position(user_id: str) -> int:
    """The position of this user's latest account data write (0 if none)."""
    from peewee import fn
    return (AccountData.select(fn.MAX(AccountData.stream_id))
            .where(AccountData.user_id == user_id).scalar() or 0)


# --- ignored users ------------------------------------------------------------------------------

def _replace_ignored_users(user_id: str, content: dict) -> None:
    ignored = content.get("ignored_users")
    targets = set()
    if isinstance(ignored, dict):
        targets = {u for u in ignored if is_valid_user_id(u) and u != user_id}
    IgnoredUser.delete().where(IgnoredUser.user_id == user_id).execute()
    if targets:
        IgnoredUser.insert_many([{"user_id": user_id, "ignored_user_id": t}
                                 for t in sorted(targets)]).execute()


def ignored_users(user_id: str) -> set[str]:
    """The users ``user_id`` ignores (their events and invites are not delivered to them)."""
    return {row.ignored_user_id for row in
            IgnoredUser.select(IgnoredUser.ignored_user_id).where(IgnoredUser.user_id == user_id)}


def users_ignoring(sender: str) -> set[str]:
    """The users who ignore ``sender`` (asked for every event sent: a fixed statement)."""
    return {user_id for (user_id,) in run_sql(
        f"SELECT user_id FROM {IgnoredUser._meta.table_name} WHERE ignored_user_id = ?",
        (sender,))}
