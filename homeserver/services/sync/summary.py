"""The per-room ``summary`` of /sync: heroes and member counts (at the snapshot's ``now``)."""

from __future__ import annotations

import json

import peewee

from ...models.rooms import CurrentState, Event
from ..event_types import MEMBER

HERO_COUNT = 5
# State whose change can change the summary.
SUMMARY_TYPES = frozenset({MEMBER, "m.room.name", "m.room.canonical_alias"})


def _has_name_or_alias(room_id: str) -> bool:
    rows = (Event.select(Event.type, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where((CurrentState.room == room_id) & (CurrentState.state_key == "")
                   & CurrentState.type.in_(["m.room.name", "m.room.canonical_alias"])))
    return _named(rows)


def _members(room_id: str, user_id: str, memberships: list[str]) -> list[str]:
    rows = (CurrentState.select(CurrentState.state_key)
            .where((CurrentState.room == room_id) & (CurrentState.type == MEMBER)
                   & (CurrentState.state_key != user_id)
                   & CurrentState.membership.in_(memberships))
            .order_by(CurrentState.stream_ordering)
            .limit(HERO_COUNT)
            .tuples())
    return [state_key for state_key, in rows]


def _named(rows) -> bool:
    """Whether a room has a non-empty name or canonical alias (then no heroes are needed)."""
    for row in rows:
        content = json.loads(row.json).get("content")
        if not isinstance(content, dict):
            continue
        if row.type == "m.room.name" and isinstance(content.get("name"), str) and content["name"]:
            return True
        if row.type == "m.room.canonical_alias" and (
                (isinstance(content.get("alias"), str) and content["alias"])
                or (isinstance(content.get("alt_aliases"), list) and content["alt_aliases"])):
            return True
    return False


def summary_from_state(current: dict, user_id: str) -> dict:
    """The summary computed from the room's whole current state, when it is loaded anyway."""
    members = sorted((row for (event_type, _), row in current.items() if event_type == MEMBER),
                     key=lambda row: row.stream_ordering)
    summary = {
        "m.joined_member_count": sum(1 for row in members if row.membership == "join"),
        "m.invited_member_count": sum(1 for row in members if row.membership == "invite"),
    }
    if not has_name_or_alias(current):
        summary["m.heroes"] = _heroes_of([(row.state_key, row.membership) for row in members],
                                         user_id)
    return summary


def _heroes_of(members: list[tuple[str, str | None]], user_id: str) -> list[str]:
    """``m.heroes`` from a room's (member, membership), oldest first (see ``heroes``)."""
    others = [(member, membership) for member, membership in members if member != user_id]
    hero_ids = [member for member, membership in others if membership in ("join", "invite")]
    if not hero_ids:
        hero_ids = [member for member, membership in others if membership in ("leave", "ban")]
    return hero_ids[:HERO_COUNT]


def summaries_without_members(states: dict[str, dict], user_id: str) -> dict[str, dict]:
    """room_id -> its summary, as ``summary_from_state`` gives it, from current states loaded
    without (most of) their member events (lazy-loading): the counts in one grouped query, and
    the heroes of the rooms without a name or alias from their memberships alone (no events)."""
    room_ids = list(states)
    counts: dict[str, dict[str, int]] = {}
    for start in range(0, len(room_ids), 500):
        counts.update(member_counts(room_ids[start:start + 500]))
    unnamed = [room_id for room_id in room_ids if not has_name_or_alias(states[room_id])]
    members: dict[str, list[tuple[str, str | None]]] = {room_id: [] for room_id in unnamed}
    for start in range(0, len(unnamed), 500):
        rows = (CurrentState.select(CurrentState.room_id, CurrentState.state_key,
                                    CurrentState.membership)
                .where(CurrentState.room.in_(unnamed[start:start + 500])
                       & (CurrentState.type == MEMBER))
                .order_by(CurrentState.stream_ordering).tuples())
        for room_id, member, membership in rows:
            members[room_id].append((member, membership))
    out = {}
    for room_id in room_ids:
        out[room_id] = {"m.joined_member_count": counts[room_id].get("join", 0),
                        "m.invited_member_count": counts[room_id].get("invite", 0)}
        if room_id in members:
            out[room_id]["m.heroes"] = _heroes_of(members[room_id], user_id)
    return out


def member_counts(room_ids: list[str]) -> dict[str, dict[str, int]]:
    """room_id -> {"join": n, "invite": n} now, for many rooms in one query."""
    counts: dict[str, dict[str, int]] = {room_id: {} for room_id in room_ids}
    rows = (CurrentState.select(CurrentState.room_id, CurrentState.membership,
                                peewee.fn.COUNT(1))
            .where(CurrentState.room.in_(room_ids) & (CurrentState.type == MEMBER)
                   & CurrentState.membership.in_(["join", "invite"]))
            .group_by(CurrentState.room_id, CurrentState.membership).tuples())
    for room_id, membership, count in rows:
        counts[room_id][membership] = count
    return counts


def heroes(room_id: str, user_id: str) -> list[str]:
    """``m.heroes`` of a room without a name or alias: members other than the user, joined
    and invited first, else those who left or were banned."""
    return (_members(room_id, user_id, ["join", "invite"])
            or _members(room_id, user_id, ["leave", "ban"]))


def has_name_or_alias(state: dict) -> bool:
    """From a state map holding at least the room's m.room.name and m.room.canonical_alias."""
    return _named([state[key] for key in (("m.room.name", ""), ("m.room.canonical_alias", ""))
                   if key in state])


def room_summary(room_id: str, user_id: str) -> dict:
    counts = member_counts([room_id])[room_id]
    summary = {"m.joined_member_count": counts.get("join", 0),
               "m.invited_member_count": counts.get("invite", 0)}
    if not _has_name_or_alias(room_id):
        summary["m.heroes"] = heroes(room_id, user_id)
    return summary
