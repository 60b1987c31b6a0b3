"""Events of erased accounts, as readers are served them (spec: "Account deactivation",
erasure): "any users which join the room after the erasure request are served redacted copies
of the events sent by this account; users which had visibility on those events prior to the
erasure are still able to see unredacted copies".

``apply`` (called by ``serialize`` on every page of events it builds; ``apply_to_pdus`` for
filters asking for the federation format) serves the room version's redacted form of an
erased sender's event to a viewer who was not joined to the room at any point between that
event and the erasure (and to anonymous readers). Joined members of that time keep the
original. Nothing is redacted in storage and no redaction events are sent, as the spec says.
The erasure itself (recorded with its stream position) is ``accounts/erasure``.
"""

from __future__ import annotations

import bisect
import json

from ...models.erasure import ErasedUser
from ...models.rooms import Event, Room
from ..event_types import MEMBER
from ..rooms import event_format
from ..rooms.room_versions import get_room_version


def is_erased(user_id: str) -> bool:
    return ErasedUser.select().where(ErasedUser.user_id == user_id).exists()


class _Timelines:
    """The viewer's membership timeline per room, loaded only for rooms that need it."""

    def __init__(self, viewer: str):
        self.viewer = viewer
        self._rooms: dict[str, tuple[list[int], list[str]]] = {}

    def joined_between(self, room_id: str, start: int, end: int) -> bool:
        """Was the viewer joined at some point from position ``start`` to ``end``?"""
        if room_id not in self._rooms:
            rows = (Event.select(Event.stream_ordering, Event.membership)
                    .where((Event.room == room_id) & (Event.type == MEMBER)
                           & (Event.state_key == self.viewer))
                    .order_by(Event.stream_ordering).tuples())
            self._rooms[room_id] = ([p for p, _ in rows], [m for _, m in rows])
        positions, memberships = self._rooms[room_id]
        first = bisect.bisect_right(positions, start)
        if first and memberships[first - 1] == "join":
            return True  # joined when the event was sent
        last = bisect.bisect_right(positions, end)
        return "join" in memberships[first:last]


def apply(rows: list[Event], events: list[dict], viewer: str | None) -> list[dict]:
    """``events`` (the client form of ``rows``, in the same order) with the events of erased
    senders the viewer could not see before the erasure replaced by their redacted form."""
    for index, redacted in _redactions(rows, viewer):
        row, original = rows[index], events[index]
        replacement = event_format.client_event(redacted, row.event_id, row.room_id)
        if "room_id" not in original:
            replacement.pop("room_id", None)
        replacement["unsigned"] = original.get("unsigned", {})
        events[index] = replacement
    return events


def apply_to_pdus(rows: list[Event], pdus: list[dict], viewer: str | None) -> list[dict]:
    """The same for the stored PDUs of ``rows`` (filters with ``event_format: federation``)."""
    for index, redacted in _redactions(rows, viewer):
        pdus[index] = redacted
    return pdus


def _redactions(rows: list[Event], viewer: str | None):
    """(index, redacted PDU) of each row the viewer must be served redacted."""
    # Rows read with ``event_rows.select`` carry their sender's erasure (``erased_at``); only
    # the senders of the others are looked up.
    erased = {row.sender: row.erased_at for row in rows
              if getattr(row, "erased_at", None) is not None}
    unknown = {row.sender for row in rows if not hasattr(row, "erased_at")}
    if unknown:
        erased.update(ErasedUser.select(ErasedUser.user_id, ErasedUser.stream_position)
                      .where(ErasedUser.user_id.in_(sorted(unknown))).tuples())
    if not erased:
        return
    timelines = _Timelines(viewer) if viewer is not None else None
    versions: dict[str, object] = {}
    for index, row in enumerate(rows):
        erased_at = erased.get(row.sender)
        if erased_at is None or row.stream_ordering > erased_at:
            continue
        if timelines is not None and timelines.joined_between(row.room_id, row.stream_ordering,
                                                              erased_at):
            continue
        if row.room_id not in versions:
            versions[row.room_id] = get_room_version(
                Room.select(Room.room_version).where(Room.room_id == row.room_id).scalar())
        yield index, event_format.redact(json.loads(row.json), versions[row.room_id])
