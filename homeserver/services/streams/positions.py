"""Stream positions: one counter orders events, receipts, typing, account data, to-device, ...

``next_position()`` must be called inside the writing transaction: the counter row's lock makes
the order in which positions commit equal the order in which they are handed out, so a sync that
has seen position p can never later miss a write at a position below p.

Taking a position also wakes the long-polling /syncs of every process and host
(``services.streams.notifier``): on PostgreSQL by a NOTIFY sent in the same transaction (delivered
at commit, never for a rollback); on SQLite the listener polls the counter, and a nudge
(``services.streams.doorbell``) makes the listeners of the host look at once.

Wake-up hints: a writer says who its write concerns, so only those syncs wake up:

    next_position(rooms=[room_id])                 # members of the room (events, typing, receipts)
    next_position(rooms=[room_id], users=[target]) # + a user outside it (an invite, a kick)
    next_position(users=[user_id])                 # one user (account data, to-device)
    next_position()                                # everyone (always correct, just costlier)
    next_position(rooms=lambda: joined_rooms(u), users=[u])  # rooms read under the counter's lock

A sync waits for positions that name one of its rooms (joined, invited or knocked) or its user,
and an incremental sync with nothing new is answered from these hints alone
(services/sync/service.py): a write that affects a sync must name its user or one of its rooms,
as they are at the write's position. Rooms that depend on other rows (a user's joined rooms)
are passed as a callable, read once the counter's row is locked: every write at a lower
position has committed by then and none at a higher one has, so a concurrent join is not
missed.
"""

from __future__ import annotations

import json
import threading
from typing import Callable, Iterable

import peewee

from ...db import StatementBatch, database, run_sql
from ...models.streams import StreamCounter
from ...models.sync import StreamWakeHint
from . import doorbell

# The PostgreSQL channel every process LISTENs on.
NOTIFY_CHANNEL = "homeserver_stream"
# NOTIFY payloads must stay under 8000 bytes; a longer hint becomes "everyone".
MAX_PAYLOAD = 7000
# SQLite hint rows older than this many positions are deleted (the listener reads them within
# ~50 ms; a listener that fell further behind wakes everyone, which is only slower).
HINT_RETENTION = 4096

# Fixed statements (db.run_sql): taken on every write, with the counter's row locked.
_TAKE_POSITION = (f'UPDATE {StreamCounter._meta.table_name} SET "position" = "position" + 1 '
                  f'WHERE id = 1 RETURNING "position"')
_INSERT_HINT = (f'INSERT INTO {StreamWakeHint._meta.table_name} ("position", rooms, users) '
                f'VALUES (?, ?, ?)')

_taken = threading.local()


def taken_here() -> int:
    """How many positions this thread has taken: a caller that read the counter before some
    work tells whether that work wrote (the value read may then be behind its own write)."""
    return getattr(_taken, "count", 0)


def next_position(*, rooms: Iterable[str] | Callable[[], Iterable[str]] = (),
                  users: Iterable[str] = (), batch: StatementBatch | None = None) -> int:
    """Take the next stream position (call inside a write transaction).

    ``rooms``/``users`` name who the write concerns (see the module docstring); with neither,
    every waiting sync re-checks. ``rooms`` may be a callable, called after the position is
    taken (with the counter's row locked). With ``batch`` (the caller runs it before commit),
    the PostgreSQL NOTIFY goes with the caller's other writes (it is delivered at commit anyway).
    """
    position = run_sql(_TAKE_POSITION).fetchone()[0]
    _taken.count = taken_here() + 1
    if callable(rooms):
        rooms = rooms()
    rooms, users = sorted(set(rooms)), sorted(set(users))
    if isinstance(database.obj, peewee.PostgresqlDatabase):
        _notify(position, rooms, users, batch)
    else:
        if rooms or users:
            run_sql(_INSERT_HINT, (position, json.dumps(rooms), json.dumps(users)))
            if position % 256 == 0:
                StreamWakeHint.delete().where(
                    StreamWakeHint.position <= position - HINT_RETENTION).execute()
        doorbell.ring(database.obj.database)
    return position


def _notify(position: int, rooms: list[str], users: list[str],
            batch: StatementBatch | None = None) -> None:
    payload = {"p": position}
    if rooms or users:
        payload.update(r=rooms, u=users)
    text = json.dumps(payload, separators=(",", ":"))
    if len(text.encode()) > MAX_PAYLOAD:
        text = json.dumps({"p": position})
    if batch is None:
        run_sql(_NOTIFY, (NOTIFY_CHANNEL, text))
    else:
        batch.add(_NOTIFY, (NOTIFY_CHANNEL, text))


_NOTIFY = "SELECT pg_notify(?, ?)"


def parse_notify_payload(text: str) -> tuple[int, frozenset | None, frozenset | None]:
    """(position, rooms, users) from a NOTIFY payload; None for both means "everyone"."""
    data = json.loads(text)
    position = int(data["p"])
    if "r" not in data and "u" not in data:
        return position, None, None
    return position, frozenset(data.get("r", ())), frozenset(data.get("u", ()))


def current_position() -> int:
    """The highest stream position handed out and committed."""
    row = run_sql(_CURRENT_POSITION).fetchone()
    return (row[0] if row else 0) or 0


# Read by every /sync (twice) and every long-poll's check: a fixed statement (db.run_sql).
_CURRENT_POSITION = (f"SELECT {StreamCounter.position.column_name} "
                     f"FROM {StreamCounter._meta.table_name} WHERE id = 1")
