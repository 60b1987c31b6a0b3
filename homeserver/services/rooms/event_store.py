"""The event writer's hot path in plain SQL: fixed statements with bound parameters.

peewee builds a query's SQL anew on every call, which costs hundreds of microseconds; sending
one event runs about eight statements while holding the room's write lock (on SQLite, the
database's only write lock), so those statements are written out here once, with the
placeholder style of the database in use, and run with ``db.run_sql``. Table and column names
come from the models, so the two cannot drift apart. Everything else keeps using peewee.
"""

from __future__ import annotations

from ...db import is_sqlite as _is_sqlite
from ...db import run_sql as _run
from ...models.rooms import CurrentState, Event, EventTransaction, Room

_ROOM = Room._meta.table_name
_EVENT = Event._meta.table_name
_STATE = CurrentState._meta.table_name
_TXN = EventTransaction._meta.table_name

EVENT_COLUMNS = ("stream_ordering", "event_id", "room_id", "depth", "type", "state_key", "sender",
                 "origin_server_ts", "membership", "json", "relates_to_id", "relation_type",
                 "replaces_state", "sender_device", "txn_id")
assert set(EVENT_COLUMNS) <= {f.column_name for f in Event._meta.sorted_fields}

def lock_room(room_id: str) -> Room | None:
    """The room row, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
    BEGIN IMMEDIATE already holds the only write lock)."""
    template = (f"SELECT room_version, creator, is_public, latest_event_id, latest_depth, "
                f"created_ts FROM {_ROOM} WHERE room_id = ?")
    if not _is_sqlite():
        template += " FOR UPDATE"
    row = _run(template, (room_id,)).fetchone()
    if row is None:
        return None
    version, creator, is_public, latest_event_id, latest_depth, created_ts = row
    return Room(room_id=room_id, room_version=version, creator=creator,
                is_public=bool(is_public), latest_event_id=latest_event_id,
                latest_depth=latest_depth, created_ts=created_ts)


def state_events(room_id: str, keys: list[tuple[str, str]]) -> list[tuple[str, str, str, str]]:
    """(type, state_key, event_id, json) of the current state events at these keys."""
    if not keys:
        return []
    condition = " OR ".join(["(c.type = ? AND c.state_key = ?)"] * len(keys))
    template = (f"SELECT c.type, c.state_key, e.event_id, e.json FROM {_STATE} c "
                f"JOIN {_EVENT} e ON e.event_id = c.event_id "
                f"WHERE c.room_id = ? AND ({condition})")
    params: list = [room_id]
    for event_type, state_key in keys:
        params += [event_type, state_key]
    return list(_run(template, tuple(params)).fetchall())


def insert_event(values: dict) -> None:
    columns = ", ".join(EVENT_COLUMNS)
    marks = ", ".join("?" * len(EVENT_COLUMNS))
    _run(f"INSERT INTO {_EVENT} ({columns}) VALUES ({marks})",
         tuple(values.get(c) for c in EVENT_COLUMNS))


def set_current_state(room_id: str, event_type: str, state_key: str, event_id: str,
                      position: int, membership: str | None, *, exists: bool) -> None:
    if exists:
        _run(f"UPDATE {_STATE} SET event_id = ?, stream_ordering = ?, membership = ? "
             f"WHERE room_id = ? AND type = ? AND state_key = ?",
             (event_id, position, membership, room_id, event_type, state_key))
    else:
        _run(f"INSERT INTO {_STATE} (room_id, type, state_key, event_id, stream_ordering, "
             f"membership) VALUES (?, ?, ?, ?, ?, ?)",
             (room_id, event_type, state_key, event_id, position, membership))


def set_room_column(room_id: str, column: str, value: str | None) -> None:
    """A Room column kept from the current state (events._ROOM_COLUMNS), from the new event."""
    assert column in ("join_rule", "history_visibility", "guest_access", "encryption", "name",
                      "canonical_alias")
    _run(f"UPDATE {_ROOM} SET {column} = ? WHERE room_id = ?", (value, room_id))


def add_joined_members(room_id: str, delta: int) -> None:
    _run(f"UPDATE {_ROOM} SET joined_members = joined_members + ? WHERE room_id = ?",
         (delta, room_id))


def set_latest(room_id: str, event_id: str, depth: int, bump_stamp: int | None) -> None:
    """The room's latest event, and with ``bump_stamp`` its Room.bump_stamp (the position of
    its latest event of a bumping type)."""
    if bump_stamp is None:
        _run(f"UPDATE {_ROOM} SET latest_event_id = ?, latest_depth = ? WHERE room_id = ?",
             (event_id, depth, room_id))
    else:
        _run(f"UPDATE {_ROOM} SET latest_event_id = ?, latest_depth = ?, bump_stamp = ? "
             f"WHERE room_id = ?", (event_id, depth, bump_stamp, room_id))


def txn_result(user_id: str, device_id: str, endpoint: str, txn_id: str,
               since_ts: int) -> str | None:
    row = _run(f"SELECT result FROM {_TXN} WHERE user_id = ? AND device_id = ? "
               f"AND endpoint = ? AND txn_id = ? AND created_ts >= ?",
               (user_id, device_id, endpoint, txn_id, since_ts)).fetchone()
    return row[0] if row else None


def delete_expired_txns(user_id: str, device_id: str, before_ts: int) -> None:
    _run(f"DELETE FROM {_TXN} WHERE user_id = ? AND device_id = ? AND created_ts < ?",
         (user_id, device_id, before_ts))


def insert_txn(user_id: str, device_id: str, endpoint: str, txn_id: str, result: str,
               created_ts: int) -> None:
    _run(f"INSERT INTO {_TXN} (user_id, device_id, endpoint, txn_id, result, created_ts) "
         f"VALUES (?, ?, ?, ?, ?, ?)",
         (user_id, device_id, endpoint, txn_id, result, created_ts))
