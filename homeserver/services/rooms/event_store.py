"""The event writer's hot path in plain SQL: fixed statements with bound parameters.

peewee builds a query's SQL anew on every call, which costs hundreds of microseconds; sending
one event runs about eight statements while holding the room's write lock (on SQLite, the
database's only write lock), so those statements are written out here once, with the
placeholder style of the database in use, and run with ``db.run_sql``. Table and column names
come from the models, so the two cannot drift apart. Everything else keeps using peewee.
"""

from __future__ import annotations

from ...db import StatementBatch
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

def _write(batch: StatementBatch | None, template: str, params: tuple) -> None:
    """A write now, or (with ``batch``) when the caller runs its batch."""
    if batch is None:
        _run(template, params)
    else:
        batch.add(template, params)


_ROOM_COLUMNS = "room_version, creator, is_public, latest_event_id, latest_depth, created_ts"
_TXN_RESULT = (f"SELECT result FROM {_TXN} WHERE user_id = ? AND device_id = ? "
               f"AND endpoint = ? AND txn_id = ? AND created_ts >= ?")


def _room(room_id: str, row) -> Room:
    version, creator, is_public, latest_event_id, latest_depth, created_ts = row
    return Room(room_id=room_id, room_version=version, creator=creator,
                is_public=bool(is_public), latest_event_id=latest_event_id,
                latest_depth=latest_depth, created_ts=created_ts)


def lock_room(room_id: str) -> Room | None:
    """The room row, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite's
    BEGIN IMMEDIATE already holds the only write lock)."""
    template = f"SELECT {_ROOM_COLUMNS} FROM {_ROOM} WHERE room_id = ?"
    if not _is_sqlite():
        template += " FOR UPDATE"
    row = _run(template, (room_id,)).fetchone()
    return _room(room_id, row) if row is not None else None


def lock_room_and_read(room_id: str, keys: list[tuple[str, str]], txn: tuple | None,
                       also: tuple[str, tuple] | None = None
                       ) -> tuple[Room | None, list[tuple], str | None, object]:
    """``lock_room``, then what a send reads first under that lock: the current state events
    at ``keys`` (as ``state_events``), with ``txn`` = (user_id, device_id, endpoint, txn_id,
    since_ts) that txnId's result (as ``txn_result``), and with ``also`` = (statement of one
    value, its parameters) that value (PostgreSQL only; None on SQLite, where the caller reads
    it itself). On PostgreSQL one round trip: the lock, then one statement that reads the rest
    (a statement of its own, so that in READ COMMITTED it sees what the lock's previous holder
    committed)."""
    if _is_sqlite() or not keys:
        room = lock_room(room_id)
        if room is None:
            return None, [], None, None
        return room, state_events(room_id, keys), txn_result(*txn) if txn else None, None
    condition = " OR ".join(["(c.type = ? AND c.state_key = ?)"] * len(keys))
    txn_column = f"({_TXN_RESULT})" if txn else "NULL"
    also_column = f"({also[0]})" if also else "NULL"
    template = (f"SELECT 1 FROM {_ROOM} WHERE room_id = ? FOR UPDATE;\n"
                f"SELECT {_ROOM_COLUMNS}, {txn_column}, "
                f"(SELECT json_agg(json_build_array(c.type, c.state_key, e.event_id, e.json)) "
                f"FROM {_STATE} c JOIN {_EVENT} e ON e.event_id = c.event_id "
                f"WHERE c.room_id = ? AND ({condition})), {also_column} "
                f"FROM {_ROOM} WHERE room_id = ?")
    params: list = [room_id, *(txn or ()), room_id]
    for event_type, state_key in keys:
        params += [event_type, state_key]
    params += [*(also[1] if also else ()), room_id]
    row = _run(template, tuple(params)).fetchone()
    if row is None:
        return None, [], None, None
    return _room(room_id, row[:6]), [tuple(entry) for entry in row[7] or ()], row[6], row[8]


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


_INSERT_EVENT = (f"INSERT INTO {_EVENT} ({', '.join(EVENT_COLUMNS)}) "
                 f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")


def insert_event(values: dict, batch: StatementBatch | None = None) -> None:
    _write(batch, _INSERT_EVENT, tuple(values.get(c) for c in EVENT_COLUMNS))


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


def set_latest(room_id: str, event_id: str, depth: int, bump_stamp: int | None,
               batch: StatementBatch | None = None) -> None:
    """The room's latest event, and with ``bump_stamp`` its Room.bump_stamp (the position of
    its latest event of a bumping type)."""
    if bump_stamp is None:
        _write(batch, f"UPDATE {_ROOM} SET latest_event_id = ?, latest_depth = ? "
                      f"WHERE room_id = ?", (event_id, depth, room_id))
    else:
        _write(batch, f"UPDATE {_ROOM} SET latest_event_id = ?, latest_depth = ?, "
                      f"bump_stamp = ? WHERE room_id = ?", (event_id, depth, bump_stamp, room_id))


def txn_result(user_id: str, device_id: str, endpoint: str, txn_id: str,
               since_ts: int) -> str | None:
    row = _run(_TXN_RESULT, (user_id, device_id, endpoint, txn_id, since_ts)).fetchone()
    return row[0] if row else None


def record_txn(user_id: str, device_id: str, endpoint: str, txn_id: str, result: str,
               created_ts: int, batch: StatementBatch | None = None) -> None:
    """Store a txnId's result; an expired record of the same txnId (the only kind a caller
    that asked ``txn_result`` first can meet) is replaced."""
    _write(batch, f"INSERT INTO {_TXN} (user_id, device_id, endpoint, txn_id, result, "
                  f"created_ts) VALUES (?, ?, ?, ?, ?, ?) "
                  f"ON CONFLICT (user_id, device_id, endpoint, txn_id) DO UPDATE SET "
                  f"result = excluded.result, created_ts = excluded.created_ts",
           (user_id, device_id, endpoint, txn_id, result, created_ts))
