"""Deleting a room as a server admin (Synapse's DELETE /_synapse/admin/v1|v2/rooms/{roomId}
and ``homeserver rooms delete``).

In order: block it (when asked) so nobody joins while it goes; make every local member who is
joined, invited or knocking leave (each leave is its own event, through ``membership``); remove
its local aliases and take it out of the room directory; then, with ``purge``, delete
everything stored about it. A purge is refused while someone could not be made to leave,
unless ``force_purge``. Each deletion is recorded (``RoomDeletion``) with its outcome for
GET .../delete_status; the work runs within the request, so the status a client reads is final.
"""

from __future__ import annotations

import json
import logging
import secrets

from ... import clock, errors
from ...db import write_transaction
from ...models.account_data import AccountData
from ...models.deactivation import PendingLeave
from ...models.ephemeral import Receipt, Typing
from ...models.hierarchy import HierarchyPage
from ...models.push import NotifyingEvent, PushAction, PushDelivery, ReadPosition
from ...models.room_admin import RoomDeletion
from ...models.rooms import CurrentState, Event, ForgottenRoom, Room, RoomAlias
from ...models.search import EventSearch
from ...models.sync import LazyLoadedMember
from ..event_types import MEMBER
from ..rooms import blocked_rooms
from . import membership

logger = logging.getLogger(__name__)

LEAVING = ("join", "invite", "knock")
# Rows deleted per statement while purging, so no statement holds a huge IN list or undo log.
PURGE_BATCH = 1000
# Tables keyed by room ID (besides Event and CurrentState, purged by stream position).
_ROOM_TABLES = (AccountData, PendingLeave, Typing, Receipt, HierarchyPage, NotifyingEvent,
                PushAction, PushDelivery, ReadPosition, EventSearch, LazyLoadedMember)


def delete_room(room_id: str, admin_id: str | None, *, block: bool = False, purge: bool = True,
                force_purge: bool = False, message: str | None = None) -> str:
    """Run a deletion; returns its ``delete_id`` (see ``delete_status``)."""
    delete_id = secrets.token_urlsafe(12)
    exists = Room.select().where(Room.room_id == room_id).exists()
    if not exists and not block:
        raise errors.NotFound("Room not found")
    with write_transaction():
        RoomDeletion.insert(delete_id=delete_id, room_id=room_id, status="shutting_down",
                            shutdown_room=json.dumps(_result([], [], [])),
                            created_ts=clock.now_ms()).execute()
    if block:
        blocked_rooms.set_blocked(room_id, admin_id, True)
    kicked, failed, aliases = ([], [], []) if not exists else _shut_down(room_id, message)
    status, error = "complete", ""
    if purge and exists:
        if failed and not force_purge:
            status, error = "failed", "Users are still in the room; use force_purge"
        else:
            _record(delete_id, "purging", "", kicked, failed, aliases)
            purge_room(room_id)
    _record(delete_id, status, error, kicked, failed, aliases)
    return delete_id


def _result(kicked: list, failed: list, aliases: list) -> dict:
    return {"kicked_users": kicked, "failed_to_kick_users": failed, "local_aliases": aliases,
            "new_room_id": None}


def _record(delete_id: str, status: str, error: str, kicked, failed, aliases) -> None:
    with write_transaction():
        RoomDeletion.update(status=status, error=error,
                            shutdown_room=json.dumps(_result(kicked, failed, aliases))).where(
            RoomDeletion.delete_id == delete_id).execute()


def _shut_down(room_id: str, message: str | None) -> tuple[list, list, list]:
    kicked, failed = [], []
    members = CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & CurrentState.membership.in_(LEAVING)).order_by(CurrentState.state_key).tuples()
    for (user_id,) in list(members):
        try:
            membership.leave(user_id, room_id, reason=message)
            kicked.append(user_id)
        except errors.MatrixError as exc:
            logger.warning("room deletion: %s could not leave %s: %s", user_id, room_id,
                           exc.message)
            failed.append(user_id)
    with write_transaction():
        aliases = [alias for (alias,) in RoomAlias.select(RoomAlias.alias)
                   .where(RoomAlias.room == room_id).order_by(RoomAlias.alias).tuples()]
        RoomAlias.delete().where(RoomAlias.room == room_id).execute()
        Room.update(is_public=False).where(Room.room_id == room_id).execute()
    return kicked, failed, aliases


def purge_room(room_id: str) -> None:
    """Delete everything stored about the room, in one transaction (a purge is all or none)."""
    with write_transaction():
        for model in _ROOM_TABLES:
            model.delete().where(model.room_id == room_id).execute()
        ForgottenRoom.delete().where(ForgottenRoom.room == room_id).execute()
        CurrentState.delete().where(CurrentState.room == room_id).execute()
        while True:
            batch = (Event.select(Event.stream_ordering).where(Event.room == room_id)
                     .limit(PURGE_BATCH))
            if Event.delete().where(Event.stream_ordering.in_(batch)).execute() == 0:
                break
        Room.delete().where(Room.room_id == room_id).execute()


def _describe(row: RoomDeletion) -> dict:
    return {"delete_id": row.delete_id, "status": row.status, "error": row.error,
            "shutdown_room": json.loads(row.shutdown_room)}


def delete_status(delete_id: str) -> dict:
    """GET /v2/rooms/delete_status/{delete_id}."""
    row = RoomDeletion.get_or_none(RoomDeletion.delete_id == delete_id)
    if row is None:
        raise errors.NotFound("delete id not found")
    described = _describe(row)
    del described["delete_id"]
    return described


def room_delete_statuses(room_id: str) -> dict:
    """GET /v2/rooms/{roomId}/delete_status: the room's deletions, newest first."""
    rows = (RoomDeletion.select().where(RoomDeletion.room_id == room_id)
            .order_by(RoomDeletion.created_ts.desc()).limit(100))
    results = [_describe(row) for row in rows]
    if not results:
        raise errors.NotFound("No delete task for room_id found")
    return {"results": results}
