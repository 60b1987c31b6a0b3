"""Sliding sync connections (MSC4186 "Connections"): per (user, device, conn_id), the ``pos``
tokens handed out and, per room, what the connection's responses sent.

A ``pos`` is a ``SlidingSyncPosition`` (``<id>_<nonce>``). As of pos P, a room's ``SlidingSyncRoom`` row is
its row with the highest position <= P: the stream position the room was sent up to, and the
room config it was sent with. A response built from P writes a new position N with rows for
the rooms it sent. The client proves it received N only by sending N; until then it may retry
P (a lost response), so P stays valid. A request from P deletes what came after P (responses
the client never processed) and what came before it (never used again), and keeps one row per
room at or below P. Rows are bounded by the rooms the user has, positions by two per connection.

A request without ``pos`` starts the connection afresh. A device keeps at most
``max_connections_per_device`` connections (a new one replaces the least recently used), and a
connection unused for ``connection_lifetime_ms`` is forgotten; its pos answers M_UNKNOWN_POS.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import peewee

from ... import clock, errors
from ...db import database, write_transaction
from ...identifiers import is_ascii_number
from ...models.sliding_sync import SlidingSyncConnection, SlidingSyncPosition, SlidingSyncRoom

CHUNK = 500


@dataclass(frozen=True)
class Sent:
    """What a connection holds of a room: sent up to ``sent_upto`` with config ``config``."""
    sent_upto: int
    config: str


@dataclass(frozen=True)
class Connection:
    user_id: str
    device_id: str
    conn_id: str
    id: int | None              # None: a request without pos (a new connection)
    position: int | None        # the pos of the request
    stream_position: int | None  # the stream position that pos's response was built at


def open_connection(user_id: str, device_id: str, conn_id: str, pos: str | None,
                    lifetime_ms: int) -> Connection:
    """The connection a request continues (M_UNKNOWN_POS for a pos that is not, or no longer,
    one of this device's connection's), or a new one when there is no pos."""
    if pos is None:
        return Connection(user_id, device_id, conn_id, None, None, None)
    position_id, _, nonce = pos.partition("_")
    if not is_ascii_number(position_id, 18) or not nonce:
        raise errors.UnknownPos()
    row = (SlidingSyncPosition.select(SlidingSyncPosition.connection,
                                      SlidingSyncPosition.stream_position)
           .join(SlidingSyncConnection)
           .where((SlidingSyncPosition.id == int(position_id))
                  & (SlidingSyncPosition.nonce == nonce)
                  & (SlidingSyncConnection.user_id == user_id)
                  & (SlidingSyncConnection.device_id == device_id)
                  & (SlidingSyncConnection.conn_id == conn_id)
                  & (SlidingSyncConnection.last_used_ts > clock.now_ms() - lifetime_ms))
           .tuples().first())
    if row is None:
        raise errors.UnknownPos()
    connection_id, stream_position = row
    return Connection(user_id, device_id, conn_id, connection_id, int(position_id),
                      stream_position)


def sent_rooms(connection: Connection, room_ids) -> dict[str, Sent]:
    """room_id -> what the connection holds of it as of the request's pos."""
    if connection.id is None:
        return {}
    rooms = sorted(set(room_ids))
    best: dict[str, tuple[int, Sent]] = {}
    for start in range(0, len(rooms), CHUNK):
        rows = (SlidingSyncRoom.select(SlidingSyncRoom.room_id, SlidingSyncRoom.position,
                                       SlidingSyncRoom.sent_upto, SlidingSyncRoom.config)
                .where((SlidingSyncRoom.connection == connection.id)
                       & SlidingSyncRoom.room_id.in_(rooms[start:start + CHUNK])
                       & (SlidingSyncRoom.position <= connection.position)).tuples())
        for room_id, position, sent_upto, config in rows:
            if room_id not in best or best[room_id][0] < position:
                best[room_id] = (position, Sent(sent_upto, config))
    return {room_id: sent for room_id, (_, sent) in best.items()}


def commit(connection: Connection, stream_position: int, sent: dict[str, Sent],
           up_to_date: list[str], max_per_device: int, lifetime_ms: int) -> str:
    """Record a response built at ``stream_position`` that sent ``sent``; ``up_to_date``:
    rooms it checked and found unchanged since they were sent (their rows move forward to
    ``stream_position``, which a retry from the same pos may trust: nothing happened in between).
    Returns the response's pos."""
    with write_transaction():
        if connection.id is None:
            connection_id = _new_connection(connection, max_per_device, lifetime_ms)
        else:
            connection_id = _continue(connection, up_to_date, stream_position)
        nonce = secrets.token_hex(6)
        position = SlidingSyncPosition.insert(connection=connection_id, nonce=nonce,
                                              stream_position=stream_position).execute()
        rows = [{"connection": connection_id, "room_id": room_id, "position": position,
                 "sent_upto": item.sent_upto, "config": item.config}
                for room_id, item in sent.items()]
        for start in range(0, len(rows), 200):
            SlidingSyncRoom.insert_many(rows[start:start + 200]).execute()
    return f"{position}_{nonce}"


def _lock(connection_id: int) -> bool:
    query = SlidingSyncConnection.select(SlidingSyncConnection.id).where(
        SlidingSyncConnection.id == connection_id)
    if not isinstance(database.obj, peewee.SqliteDatabase):
        query = query.for_update()
    return query.exists()


def _continue(connection: Connection, up_to_date: list[str], stream_position: int) -> int:
    connection_id, pos = connection.id, connection.position
    if not _lock(connection_id) or not SlidingSyncPosition.select().where(
            SlidingSyncPosition.id == pos).exists():
        # A newer request of the connection (or a request without pos) replaced it meanwhile.
        raise errors.UnknownPos()
    mine = SlidingSyncRoom.connection == connection_id
    SlidingSyncRoom.delete().where(mine & (SlidingSyncRoom.position > pos)).execute()
    SlidingSyncPosition.delete().where((SlidingSyncPosition.connection == connection_id)
                                       & (SlidingSyncPosition.id != pos)).execute()
    # One row per room at or below pos: the rooms sent by pos's response drop older rows.
    sent_at_pos = SlidingSyncRoom.select(SlidingSyncRoom.room_id).where(
        mine & (SlidingSyncRoom.position == pos))
    SlidingSyncRoom.delete().where(mine & (SlidingSyncRoom.position < pos)
                                   & SlidingSyncRoom.room_id.in_(sent_at_pos)).execute()
    for start in range(0, len(up_to_date), CHUNK):
        (SlidingSyncRoom.update(sent_upto=stream_position)
         .where(mine & (SlidingSyncRoom.position <= pos)
                & (SlidingSyncRoom.sent_upto < stream_position)
                & SlidingSyncRoom.room_id.in_(up_to_date[start:start + CHUNK])).execute())
    SlidingSyncConnection.update(last_used_ts=clock.now_ms()).where(
        SlidingSyncConnection.id == connection_id).execute()
    return connection_id


def _delete(connection_ids: list[int]) -> None:
    if not connection_ids:
        return
    SlidingSyncRoom.delete().where(SlidingSyncRoom.connection.in_(connection_ids)).execute()
    SlidingSyncPosition.delete().where(
        SlidingSyncPosition.connection.in_(connection_ids)).execute()
    SlidingSyncConnection.delete().where(SlidingSyncConnection.id.in_(connection_ids)).execute()


def _new_connection(connection: Connection, max_per_device: int, lifetime_ms: int) -> int:
    now = clock.now_ms()
    device = ((SlidingSyncConnection.user_id == connection.user_id)
              & (SlidingSyncConnection.device_id == connection.device_id))
    rows = list(SlidingSyncConnection.select(SlidingSyncConnection.id,
                                             SlidingSyncConnection.conn_id,
                                             SlidingSyncConnection.last_used_ts)
                .where(device).order_by(SlidingSyncConnection.last_used_ts.desc()).tuples())
    keep = [row for row in rows if row[1] != connection.conn_id and row[2] > now - lifetime_ms]
    dropped = {row[0] for row in rows} - {row[0] for row in keep[:max_per_device - 1]}
    _delete(sorted(dropped))
    return SlidingSyncConnection.insert(user_id=connection.user_id,
                                        device_id=connection.device_id,
                                        conn_id=connection.conn_id, created_ts=now,
                                        last_used_ts=now).execute()


def delete_for_device(user_id: str, device_id: str) -> None:
    """A deleted device's connections go with it."""
    _delete([connection_id for (connection_id,) in SlidingSyncConnection.select(
        SlidingSyncConnection.id).where((SlidingSyncConnection.user_id == user_id)
                                        & (SlidingSyncConnection.device_id == device_id))
        .tuples()])
