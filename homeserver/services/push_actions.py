"""Push rule evaluation of each new event, inside the event's own write transaction.

``on_event_persisted`` is the one hook the event pipeline (services/events.py) calls after an
event is stored and the room's current state updated, in the same transaction. For every
local member of the room but the sender (and the target of an invite) it evaluates their push
rules, stores a PushAction for each notifying result (so unread counts are in the same /sync
as the event, as the spec requires) and queues a PushDelivery per pusher of the notified users
(sent after commit by services/push_sender). It also counts the sender's own event as read
by them and as presence activity.

Cost: members sharing the default rules share one compiled rule list, and each event's
conditions are memoized by what they ask, so only the per-member conditions (their user ID,
localpart, display name) are computed per member; rules, pushers and display names of the
whole room are loaded with a few queries.
"""

from __future__ import annotations

import json

from .. import db
from ..models.push import PushAction, PushDelivery, Pusher
from ..models.rooms import CurrentState, Event
from . import account_data, notifications, power_levels, presence, push_rules
from .push_evaluator import EventFacts, highlights, notifies
from .room_versions import RoomVersion

MEMBER = "m.room.member"


def _members(room_id: str) -> list[str]:
    return [user for (user,) in CurrentState.select(CurrentState.state_key).where(
        (CurrentState.room == room_id) & (CurrentState.type == MEMBER)
        & (CurrentState.membership == "join")).tuples()]


def _display_names(room_id: str) -> dict[str, str]:
    names = {}
    rows = (Event.select(Event.state_key, Event.json)
            .join(CurrentState, on=(Event.event_id == CurrentState.event_id))
            .where((CurrentState.room == room_id) & (CurrentState.type == MEMBER)
                   & (CurrentState.membership.in_(["join", "invite"]))).tuples())
    for user_id, text in rows:
        content = json.loads(text).get("content")
        name = content.get("displayname") if isinstance(content, dict) else None
        if isinstance(name, str) and name:
            names[user_id] = name
    return names


def on_event_persisted(room_id: str, event_id: str, pdu: dict, stream_ordering: int,
                       version: RoomVersion, auth_state: dict) -> None:
    """Evaluate push rules for a stored event. Call inside the event's write transaction,
    after current state was updated. ``auth_state`` is the state the event was authorized
    against ({(type, state_key): pdu}; it holds m.room.create and m.room.power_levels)."""
    sender = pdu.get("sender")
    content = pdu.get("content") if isinstance(pdu.get("content"), dict) else {}
    thread_id = notifications.thread_of(content)

    presence.on_activity(sender)
    # Sending into a thread (or the main timeline) means having read it up to there.
    notifications.advance_read_position(sender, room_id, thread_id, stream_ordering)

    members = _members(room_id)
    recipients = [user for user in members if user != sender]
    if pdu.get("type") == MEMBER and content.get("membership") == "invite":
        target = pdu.get("state_key")
        if isinstance(target, str) and target != sender and target not in recipients:
            recipients.append(target)
    if not recipients:
        return
    ignoring = account_data.users_ignoring(sender)
    recipients = [user for user in recipients if user not in ignoring]
    if not recipients:
        return

    event = {**pdu, "event_id": event_id, "room_id": room_id}
    facts = EventFacts(
        event, member_count=len(members),
        sender_level=lambda: power_levels.user_level(auth_state, sender, version),
        notification_level=lambda key: power_levels.action_level(
            auth_state, f"notifications.{key}", version))
    rules = push_rules.compiled_rules_for(recipients)
    names: dict[str, str] | None = None

    def display_name(user_id: str) -> str | None:
        nonlocal names
        if names is None:
            names = _display_names(room_id)
        return names.get(user_id)

    now = db.now_ms()
    rows = []
    for user_id in recipients:
        actions = facts.actions_for(rules[user_id], user_id, lambda u=user_id: display_name(u))
        if actions is None or not notifies(actions):
            continue
        rows.append({"user_id": user_id, "room_id": room_id, "event_id": event_id,
                     "stream_ordering": stream_ordering, "thread_id": thread_id,
                     "actions": json.dumps(list(actions), separators=(",", ":")),
                     "highlight": highlights(actions), "ts": now})
    if not rows:
        return
    PushAction.insert_many(rows).execute()
    _queue_deliveries(rows, now)


def _queue_deliveries(rows: list[dict], now: int) -> None:
    by_user = {row["user_id"]: row for row in rows}
    found = (Pusher.select(Pusher.id, Pusher.user_id)
             .where(Pusher.user_id.in_(list(by_user))).tuples())
    deliveries = [{"pusher": pusher_id, "event_id": by_user[user_id]["event_id"],
                   "room_id": by_user[user_id]["room_id"],
                   "stream_ordering": by_user[user_id]["stream_ordering"],
                   "actions": by_user[user_id]["actions"], "attempts": 0,
                   "next_attempt_ts": now, "created_ts": now}
                  for pusher_id, user_id in found]
    if deliveries:
        PushDelivery.insert_many(deliveries).execute()
