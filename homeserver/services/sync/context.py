"""What one /sync request is about, with the user's room memberships computed once, lazily."""

from __future__ import annotations

import peewee

from ...cached_attribute import cached_attribute
from ...models.rooms import Event
from ..event_types import MEMBER
from ..reading.filters import Filter
from .memberships import Membership, changes_between, memberships_at


class SyncContext:
    """One sync between ``since`` (None: initial sync) and ``now``, both stream positions.

    Everything a provider reads must be at or below ``now``: the response's ``next_batch`` is
    ``now``, so anything above it is for the next sync. The response is built inside one
    snapshot transaction, where the room tables show exactly the state at ``now``.
    """

    def __init__(self, *, user_id: str, device_id: str, since: int | None, now: int,
                 full_state: bool, filter: Filter, set_presence: str | None,
                 use_state_after: bool = False, nothing_new: bool = False):
        self.user_id = user_id
        self.device_id = device_id
        self.since = since
        self.now = now
        self.full_state = full_state
        self.filter = filter
        self.set_presence = set_presence
        self.use_state_after = use_state_after
        self._nothing_new = nothing_new

    @property
    def is_initial(self) -> bool:
        return self.since is None

    @property
    def nothing_new(self) -> bool:
        """Nothing concerning this sync was written between ``since`` and ``now`` (an
        incremental sync that timed out, or asked with timeout=0, proven quiet from the stream
        listener's record: see ``service._quiet_position``): providers skip their queries, and
        add only what they send on every sync. The build then runs outside the snapshot."""
        return self._nothing_new or (self.since is not None and self.since == self.now
                                     and not self.full_state)

    @cached_attribute
    def memberships(self):
        """room_id -> the user's Membership at ``now`` (every room they have a membership in;
        a read-only mapping)."""
        return memberships_at(self.user_id, self.now)

    @cached_attribute
    def membership_changes(self) -> dict[str, list[Membership]]:
        """room_id -> the user's membership events in (since, now], oldest first."""
        if self.since is None:
            return {}
        changes: dict[str, list[Membership]] = {}
        for room_id, membership in changes_between(self.user_id, self.since, self.now):
            changes.setdefault(room_id, []).append(membership)
        return changes

    @cached_attribute
    def memberships_at_since(self) -> dict[str, Membership]:
        """For rooms whose membership changed since ``since``: the membership at ``since``."""
        rooms = list(self.membership_changes)
        if not rooms:
            return {}
        latest = (Event.select(Event.room_id.alias("room"),
                               peewee.fn.MAX(Event.stream_ordering).alias("position"))
                  .where((Event.state_key == self.user_id) & (Event.type == MEMBER)
                         & (Event.stream_ordering <= self.since)
                         & Event.room_id.in_(rooms))
                  .group_by(Event.room_id))
        rows = (Event.select(Event.room_id, Event.membership, Event.stream_ordering,
                             Event.event_id)
                .join(latest, on=(Event.stream_ordering == latest.c.position))
                .tuples())
        return {room_id: Membership(membership, position, event_id)
                for room_id, membership, position, event_id in rows}

    def membership_at(self, room_id: str) -> str | None:
        membership = self.memberships.get(room_id)
        return membership.membership if membership else None

    @cached_attribute
    def joined_room_ids(self) -> set[str]:
        return {room_id for room_id, m in self.memberships.items() if m.membership == "join"}

    @cached_attribute
    def joined_since_room_ids(self) -> set[str]:
        """Incremental syncs: joined rooms whose membership became join since ``since``,
        including rooms left and joined again in between (the client's copy is stale)."""
        fresh = set()
        for room_id, changes in self.membership_changes.items():
            if room_id not in self.joined_room_ids:
                continue
            before = self.memberships_at_since.get(room_id)
            left_between = any(change.membership != "join" for change in changes)
            if before is None or before.membership != "join" or left_between:
                fresh.add(room_id)
        return fresh

    @cached_attribute
    def newly_joined_room_ids(self) -> set[str]:
        """Joined rooms the client learns about afresh in this response (so it gets their whole
        state): every joined room on an initial or full-state sync; otherwise
        ``joined_since_room_ids``."""
        if self.since is None or self.full_state:
            return set(self.joined_room_ids)
        return self.joined_since_room_ids

    @cached_attribute
    def newly_left_room_ids(self) -> set[str]:
        """Rooms the user left (or was kicked/banned from, or whose invite they rejected) since
        ``since`` and is not back in."""
        return {room_id for room_id in self.membership_changes
                if self.membership_at(room_id) in ("leave", "ban")}

    @cached_attribute
    def interesting_room_ids(self) -> set[str]:
        """Rooms whose writes may matter to this user: joined, invited or knocked."""
        return {room_id for room_id, m in self.memberships.items()
                if m.membership in ("join", "invite", "knock")}
