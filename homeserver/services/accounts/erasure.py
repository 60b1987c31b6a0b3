"""Erasure of a deactivated account (POST /account/deactivate with ``erase: true``).

What the spec asks, and how far this server honours it:

- "any users which join the room after the erasure request are served redacted copies of the
  events sent by this account; users which had visibility on those events prior to the erasure
  are still able to see unredacted copies": ``apply`` (called by ``services.reading.serialize`` on
  every page of events it builds; ``apply_to_pdus`` for filters asking for the federation
  format) serves the room version's redacted form of an erased
  sender's event to a viewer who was not joined to the room at any point between that event
  and the erasure (and to anonymous readers). Joined members of that time keep the original.
  Nothing is redacted in storage and no redaction events are sent, as the spec says.
- "erase any non-event data associated with the user, such as account data and contact
  3PIDs": ``erase`` deletes account data (room tags included), the ignored-users list,
  filters, push rules and the media the user uploaded (its mxc URIs answer 404 from the
  erasure's commit; the files go right after, services/accounts/deactivation.py); this server keeps
  no 3PIDs. Profile data, devices, keys, pushers and key backups go at every deactivation.

Not erased: the search index, which may still match words of erased events in POST /search
(the events it returns are served redacted as above).
"""

from __future__ import annotations

import bisect
import json

from ...db import now_ms
from ...models.account_data import AccountData, IgnoredUser
from ...models.erasure import ErasedUser
from ...models.filters import Filter
from ...models.media import Media
from ...models.push import PushRule, PushRuleDefaultSetting
from ...models.rooms import Event, Room
from ..event_types import MEMBER
from ..push import rules_versions as push_rules_versions
from ..rooms import event_format
from ..rooms.room_versions import get_room_version
from ..streams.positions import next_position


def erase(user_id: str) -> list[str]:
    """Record the erasure and delete the user's non-event data (call in a write transaction).
    Returns the SHA-256 of the content of the media items deleted (their files may now be
    unreferenced)."""
    position = next_position(users=[user_id])
    (ErasedUser.insert(user_id=user_id, stream_position=position, erased_ts=now_ms())
     .on_conflict_ignore().execute())
    AccountData.delete().where(AccountData.user_id == user_id).execute()
    IgnoredUser.delete().where(IgnoredUser.user_id == user_id).execute()
    Filter.delete().where(Filter.user_id == user_id).execute()
    push_rules_versions.lock_user(user_id)
    PushRule.delete().where(PushRule.user_id == user_id).execute()
    PushRuleDefaultSetting.delete().where(PushRuleDefaultSetting.user_id == user_id).execute()
    push_rules_versions.note_change(user_id)  # no process keeps the erased rules compiled
    hashes = sorted({sha for (sha,) in Media.select(Media.sha256).where(
        (Media.user_id == user_id) & Media.sha256.is_null(False)).tuples()})
    Media.delete().where(Media.user_id == user_id).execute()
    return hashes


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
    senders = {row.sender for row in rows}
    erased = dict(ErasedUser.select(ErasedUser.user_id, ErasedUser.stream_position)
                  .where(ErasedUser.user_id.in_(sorted(senders))).tuples()) if rows else {}
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
