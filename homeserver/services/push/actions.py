"""Push rule evaluation of each new event, inside the event's own write transaction.

``on_event_persisted`` is the one hook the event pipeline (services/writing/events.py) calls after an
event is stored and the room's current state updated, in the same transaction (so unread
counts are in the same /sync as the event, as the spec requires). For every local member of
the room but the sender (and the target of an invite) it evaluates their push rules, then
stores the outcome compactly: one NotifyingEvent row for the most common outcome when it
notifies, and a PushAction row only for each member whose outcome differs (mentioned,
invited, ignoring the sender, personal rules). It queues a PushDelivery per pusher of the
notified members (sent after commit by services/push_sender), and counts the sender's own
event as read by them and as presence activity.

Cost: a send into a room of hundreds writes a handful of rows, not one per member. Members
sharing the default rules are settled together (push_evaluator.EventFacts.actions_by_user);
rules, pushers and display names of the whole room are read with a few queries.
"""

from __future__ import annotations

import json
from collections import Counter

from ... import clock
from ...db import StatementBatch, run_sql
from ...models.account_data import IgnoredUser
from ...models.presence import Presence
from ...models.push import NotifyingEvent, PushAction, PushDelivery, Pusher, PushRulesVersion
from ...models.rooms import CurrentState, Event
from ..ephemeral import presence, read_positions
from ..event_types import MEMBER
from ..rooms import power_levels
from ..rooms.room_versions import RoomVersion
from ..userdata import account_data
from . import rules as push_rules
from .evaluator import EventFacts, highlights, notifies
from .queued import queued


class _Members:
    """The room's joined and invited members, with what a send needs of each (who ignores the
    sender, their http pushers) and of the sender (their presence row), and the push rules'
    version: one statement per event, not five (on PostgreSQL each is a round trip made while
    the room is locked). A room with no member left (its last one just left) reads none of it
    here: ``presence`` and ``rules_version`` are then unread (``_UNREAD``).

    Read with ``run_sql``: peewee's per-row machinery costs more than the query itself for the
    hundreds of rows of a large room, on every event."""

    def __init__(self, room_id: str, sender: str, rows: list | None = None):
        self.memberships: dict[str, tuple[str, str]] = {}  # user -> (membership, event ID)
        self.ignoring: set[str] = set()
        self.http_pushers: dict[str, list[int]] = {}
        self.presence = self.rules_version = _UNREAD
        if rows is None:
            rows = run_sql(_MEMBERS, (sender, sender, room_id, MEMBER))
        for row in rows:
            user_id, membership, event_id, ignores, pusher_id, version, seq = row[:7]
            self.memberships[user_id] = (membership, event_id)
            if ignores:
                self.ignoring.add(user_id)
            if pusher_id is not None:
                self.http_pushers.setdefault(user_id, []).append(pusher_id)
            if self.presence is _UNREAD:
                self.rules_version = (version, seq) if version is not None else (0, 0)
                self.presence = row[7:] if row[7] is not None else None


_UNREAD = object()

# Fixed statement (db.run_sql), run for every event sent. A member with several http pushers
# comes once per pusher; the rules' version and the sender's presence come with every row.
# Every column is named, so that ``members_read`` can aggregate the rows.
_MEMBER_COLUMNS = ("member", "membership", "event_id", "ignores", "pusher_id", "rules_version",
                   "rules_seq", *(f"presence_{column}" for column in presence.COLUMNS))
_MEMBERS = (
    f"SELECT c.state_key AS member, c.membership AS membership, c.event_id AS event_id, "
    f"(SELECT 1 FROM {IgnoredUser._meta.table_name} i "
    f"WHERE i.user_id = c.state_key AND i.ignored_user_id = ?) AS ignores, "
    f"p.id AS pusher_id, v.version AS rules_version, v.seq AS rules_seq, "
    + ", ".join(f"pr.{column} AS presence_{column}" for column in presence.COLUMNS) + " "
    f"FROM {CurrentState._meta.table_name} c "
    f"LEFT JOIN {Pusher._meta.table_name} p ON p.user_id = c.state_key AND p.kind = 'http' "
    f"LEFT JOIN {PushRulesVersion._meta.table_name} v ON v.id = 1 "
    f"LEFT JOIN {Presence._meta.table_name} pr ON pr.user_id = ? "
    f"WHERE c.room_id = ? AND c.type = ? AND c.membership IN ('join', 'invite')")



def members_read(room_id: str, sender: str) -> tuple[str, tuple]:
    """What the push hook reads of the room's members, as a statement giving one JSON array of
    rows (PostgreSQL; None when there are none) and its parameters: the event writer runs it
    in the round trip that locks the room and passes the rows to ``on_event_persisted``, one
    round trip fewer while the lock is held. Only for an event that changes no membership
    (the hook must see the members after the event's own state)."""
    listed = ", ".join(f"m.{column}" for column in _MEMBER_COLUMNS)
    return (f"SELECT json_agg(json_build_array({listed})) FROM ({_MEMBERS}) m",
            (sender, sender, room_id, MEMBER))

# Display names by member event ID. A member event never changes (a redaction aside, which
# only stops a stale name from matching), so every process may keep them.
_NAMES_BY_EVENT: dict[str, str | None] = {}
_NAMES_KEPT = 200_000


def _display_names(member_events: dict[str, str]) -> dict[str, str | None]:
    """user ID -> display name in the room, from their member event IDs."""
    missing = [e for e in member_events.values() if e not in _NAMES_BY_EVENT]
    if missing:
        if len(_NAMES_BY_EVENT) + len(missing) > _NAMES_KEPT:
            _NAMES_BY_EVENT.clear()
        for start in range(0, len(missing), 500):
            for event_id, text in (Event.select(Event.event_id, Event.json)
                                   .where(Event.event_id.in_(missing[start:start + 500]))
                                   .tuples()):
                content = json.loads(text).get("content")
                name = content.get("displayname") if isinstance(content, dict) else None
                _NAMES_BY_EVENT[event_id] = name if isinstance(name, str) and name else None
    return {user_id: _NAMES_BY_EVENT.get(event_id) for user_id, event_id in member_events.items()}


def on_event_persisted(room_id: str, event_id: str, pdu: dict, stream_ordering: int,
                       version: RoomVersion, auth_state: dict,
                       batch: StatementBatch | None = None,
                       member_rows: list | None = None) -> None:
    """Evaluate push rules for a stored event. Call inside the event's write transaction,
    after current state was updated. ``auth_state`` is the state the event was authorized
    against ({(type, state_key): pdu}; it holds m.room.create and m.room.power_levels). The
    rows it writes go into ``batch`` when given (the caller runs it before commit).
    ``member_rows``: the rows of ``members_read``, when the caller read them already."""
    batch_given = batch is not None
    batch = StatementBatch() if batch is None else batch
    sender = pdu.get("sender")
    content = pdu.get("content") if isinstance(pdu.get("content"), dict) else {}
    thread_id = read_positions.thread_of(content)

    members = _Members(room_id, sender, member_rows)
    if members.presence is _UNREAD:
        presence.on_activity(sender)
    else:
        presence.on_activity(sender, members.presence)
    # Sending an event means having read up to it: a membership change (a join) the whole
    # room, any other event its thread (or the main timeline).
    own_key = read_positions.UNTHREADED if pdu.get("type") == MEMBER else thread_id
    read_positions.advance_read_position(sender, room_id, own_key, stream_ordering, batch)

    memberships = members.memberships
    joined_count = sum(1 for membership, _ in memberships.values() if membership == "join")
    recipients = [user for user, (membership, _) in memberships.items()
                  if membership == "join" and user != sender]
    # The target of an invite is not in the room yet, but is told (.m.rule.invite_for_me).
    invitee = None
    if pdu.get("type") == MEMBER and content.get("membership") == "invite":
        target = pdu.get("state_key")
        if isinstance(target, str) and target != sender and target not in recipients:
            invitee = target
            recipients.append(target)
    if recipients:
        event = {**pdu, "event_id": event_id, "room_id": room_id}
        facts = EventFacts(
            event, member_count=joined_count,
            sender_level=lambda: power_levels.user_level(auth_state, sender, version),
            notification_level=lambda key: power_levels.action_level(
                auth_state, f"notifications.{key}", version),
            glob_budget=push_rules.settings().glob_work_budget)
        rules = push_rules.compiled_rules_for(
            recipients, None if members.rules_version is _UNREAD else members.rules_version)
        outcomes = facts.actions_by_user(
            rules, lambda: _display_names({user: event_id for user, (_, event_id)
                                           in memberships.items()}))
        ignoring = members.ignoring
        if invitee is not None and invitee not in memberships:
            ignoring = ignoring | (account_data.users_ignoring(sender) & {invitee})
        for user_id in ignoring:
            if user_id in outcomes:
                outcomes[user_id] = None  # events of ignored users never notify
        _store(room_id, event_id, sender, stream_ordering, thread_id, outcomes, invitee,
               members.http_pushers, batch)
    if not batch_given:
        batch.run()


def _store(room_id: str, event_id: str, sender: str, stream_ordering: int, thread_id: str,
           outcomes: dict[str, tuple | None], invitee: str | None,
           http_pushers: dict[str, list[int]], batch: StatementBatch) -> None:
    """One NotifyingEvent for the members' most common outcome when it notifies, a PushAction
    for each member with another outcome (and for a notified invitee, who is no member yet),
    a PushDelivery for each http pusher of a notified user (email pushers read the
    notifications themselves: email_notifs.py)."""
    now = clock.now_ms()
    # Outcomes compared by their JSON (actions hold dicts, so tuples of them do not hash).
    encoded: dict[int, tuple[str, bool, bool] | None] = {}
    by_user: dict[str, tuple[str, bool, bool] | None] = {}
    for user_id, actions in outcomes.items():
        key = id(actions)
        if key not in encoded:
            encoded[key] = None if actions is None else (
                json.dumps(list(actions), separators=(",", ":")), notifies(actions),
                highlights(actions))
        by_user[user_id] = encoded[key]
    tally = Counter(outcome for user_id, outcome in by_user.items() if user_id != invitee)
    common = tally.most_common(1)[0][0] if tally else None
    common_notifies = common is not None and common[1]
    if common_notifies:
        _insert_rows(batch, NotifyingEvent, ("stream_ordering", "event_id", "room_id", "sender",
                                             "thread_id", "actions", "highlight", "ts"),
                     [(stream_ordering, event_id, room_id, sender, thread_id, common[0],
                       common[2], now)])
    exceptions, notified = [], {}
    for user_id, outcome in by_user.items():
        does_notify = outcome is not None and outcome[1]
        if does_notify:
            notified[user_id] = outcome[0]
        if user_id != invitee and (outcome == common
                                   or (not does_notify and not common_notifies)):
            continue
        if user_id == invitee and not does_notify:
            continue
        exceptions.append((user_id, room_id, event_id, stream_ordering, thread_id,
                           outcome[0] if does_notify else "[]",
                           does_notify and outcome[2], now, does_notify))
    if exceptions:
        _insert_rows(batch, PushAction, ("user_id", "room_id", "event_id", "stream_ordering",
                                         "thread_id", "actions", "highlight", "ts", "notify"),
                     exceptions)
    deliveries = [(pusher_id, event_id, room_id, stream_ordering, actions, 0, now, now)
                  for user_id, actions in notified.items()
                  for pusher_id in http_pushers.get(user_id, ())]
    if deliveries:
        _insert_rows(batch, PushDelivery, ("pusher_id", "event_id", "room_id",
                                           "stream_ordering", "actions", "attempts",
                                           "next_attempt_ts", "created_ts"), deliveries)
        queued(stream_ordering)


def _insert_rows(batch: StatementBatch, model, columns: tuple[str, ...], rows: list[tuple],
                 chunk: int = 500) -> None:
    """Multi-row INSERTs built directly: for hundreds of rows per event, building them through
    peewee's query builder costs more than the database does."""
    table = f'"{model._meta.table_name}"'
    names = ", ".join(f'"{c}"' for c in columns)
    one = "(" + ", ".join(["?"] * len(columns)) + ")"
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        batch.add(f"INSERT INTO {table} ({names}) VALUES " + ", ".join([one] * len(part)),
                  [value for row in part for value in row])
