"""Unread notification counts in /sync (spec: Receiving notifications, Marking notifications as
read): counts rise with notifying events, highlights for mentions, clear with receipts (per
thread for threaded receipts), and follow push rules and ignored users."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, join, send_ok
from helpers.sync import joined, sync

THREADS = {"room": {"timeline": {"unread_thread_notifications": True}}}


def counts(body, room_id):
    return joined(body, room_id)["unread_notifications"]


def receipt(user, room_id, event_id, receipt_type="m.read", **body):
    return ok(user.post(f"{V3}/rooms/{quote(room_id)}/receipt/{receipt_type}/{quote(event_id)}",
                        json=body))


def zero():
    return {"notification_count": 0, "highlight_count": 0}


def test_counts_rise_with_messages_and_clear_with_receipts(room):
    room_id, alice, bob = room
    first = sync(bob)
    assert counts(first, room_id) == zero()
    one = send_ok(alice, room_id, "one")
    two = send_ok(alice, room_id, "two")
    body = sync(bob, since=first["next_batch"])
    # The counts arrive in the same response as the events.
    assert [e["event_id"] for e in joined(body, room_id)["timeline"]["events"]] == [one, two]
    assert counts(body, room_id) == {"notification_count": 2, "highlight_count": 0}
    mention = send_ok(alice, room_id, "hey bob", **{"m.mentions": {"user_ids": [bob.user_id]}})
    body = sync(bob, since=body["next_batch"])
    assert counts(body, room_id) == {"notification_count": 3, "highlight_count": 1}
    receipt(bob, room_id, two)
    body = sync(bob, since=body["next_batch"])
    assert counts(body, room_id) == {"notification_count": 1, "highlight_count": 1}
    receipt(bob, room_id, mention)
    body = sync(bob, since=body["next_batch"])
    assert counts(body, room_id) == zero()
    # The sender's own events never count for them.
    assert counts(sync(alice), room_id) == zero()


def test_private_receipts_clear_counts_and_public_ones_behind_do_not_rewind(room):
    room_id, alice, bob = room
    events = [send_ok(alice, room_id, f"m{i}") for i in range(4)]
    receipt(bob, room_id, events[3], "m.read.private")
    assert counts(sync(bob), room_id) == zero()
    receipt(bob, room_id, events[0], "m.read")
    assert counts(sync(bob), room_id) == zero()


def test_own_message_marks_the_room_read(room):
    room_id, alice, bob = room
    send_ok(alice, room_id, "a")
    send_ok(alice, room_id, "b")
    assert counts(sync(bob), room_id)["notification_count"] == 2
    send_ok(bob, room_id, "my reply")
    assert counts(sync(bob), room_id) == zero()
    send_ok(alice, room_id, "c")
    assert counts(sync(bob), room_id)["notification_count"] == 1


def test_room_mention_needs_power(room):
    room_id, alice, bob = room
    # alice created the room (power 100); bob has the default 0 and "room" needs 50.
    send_ok(alice, room_id, "all", **{"m.mentions": {"room": True}})
    assert counts(sync(bob), room_id) == {"notification_count": 1, "highlight_count": 1}
    send_ok(bob, room_id, "all!", **{"m.mentions": {"room": True}})
    assert counts(sync(alice), room_id) == {"notification_count": 1, "highlight_count": 0}


def test_legacy_display_name_mention_without_m_mentions(room):
    room_id, alice, bob = room
    send_ok(alice, room_id, "is bob around?")
    assert counts(sync(bob), room_id) == {"notification_count": 1, "highlight_count": 1}


def test_notices_and_reactions_do_not_count(room):
    room_id, alice, bob = room
    message = send_ok(alice, room_id, "hi")
    receipt(bob, room_id, message)
    send_ok(alice, room_id, "beep", msgtype="m.notice")
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": message, "key": "+1"}}
    ok(alice.put(f"{V3}/rooms/{quote(room_id)}/send/m.reaction/r1", json=reaction))
    assert counts(sync(bob), room_id) == zero()


def test_push_rules_decide(room):
    room_id, alice, bob = room
    room_rule = f"{V3}/pushrules/global/room/{quote(room_id)}"
    ok(bob.put(room_rule, json={"actions": []}))
    send_ok(alice, room_id, "quiet")
    assert counts(sync(bob), room_id) == zero()
    ok(bob.delete(room_rule))
    send_ok(alice, room_id, "loud")
    assert counts(sync(bob), room_id)["notification_count"] == 1
    master = f"{V3}/pushrules/global/override/.m.rule.master/enabled"
    ok(bob.put(master, json={"enabled": True}))
    send_ok(alice, room_id, "muted")
    assert counts(sync(bob), room_id)["notification_count"] == 1


def test_ignored_users_do_not_notify(room):
    room_id, alice, bob = room
    ok(bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
               json={"ignored_users": {alice.user_id: {}}}))
    send_ok(alice, room_id, "you cannot hear me")
    assert counts(sync(bob), room_id) == zero()


def test_threaded_counts_and_receipts(room):
    room_id, alice, bob = room
    root = send_ok(alice, room_id, "root")
    thread = {"m.relates_to": {"rel_type": "m.thread", "event_id": root}}
    in_thread = send_ok(alice, room_id, "in thread", **thread)
    send_ok(alice, room_id, "again in thread", **thread)
    # Without the filter option, one count for the whole room.
    assert counts(sync(bob), room_id)["notification_count"] == 3
    entry = joined(sync(bob, filter=THREADS), room_id)
    assert entry["unread_notifications"]["notification_count"] == 1
    assert entry["unread_thread_notifications"] == {
        root: {"notification_count": 2, "highlight_count": 0}}
    # A threaded receipt clears only its thread, up to its event.
    receipt(bob, room_id, in_thread, thread_id=root)
    entry = joined(sync(bob, filter=THREADS), room_id)
    assert entry["unread_notifications"]["notification_count"] == 1
    assert entry["unread_thread_notifications"][root]["notification_count"] == 1
    receipt(bob, room_id, root, thread_id="main")
    entry = joined(sync(bob, filter=THREADS), room_id)
    assert entry["unread_notifications"] == zero()
    assert entry["unread_thread_notifications"][root]["notification_count"] == 1
    # An unthreaded receipt covers every thread up to its event.
    last = send_ok(alice, room_id, "main again")
    receipt(bob, room_id, last)
    entry = joined(sync(bob, filter=THREADS), room_id)
    assert entry["unread_notifications"] == zero()
    assert "unread_thread_notifications" not in entry


def test_receipt_change_alone_updates_counts_in_incremental_sync(room):
    room_id, alice, bob = room
    last = send_ok(alice, room_id, "x")
    first = sync(bob)
    assert counts(first, room_id)["notification_count"] == 1
    receipt(bob, room_id, last, "m.read.private")
    body = sync(bob, since=first["next_batch"])
    assert counts(body, room_id) == zero()


@pytest.fixture
def trio(register_user):
    alice, bob, carol = (register_user(n) for n in ("alice", "bob", "carol"))
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    join(carol, room_id)
    return room_id, alice, bob, carol


def test_members_with_other_outcomes_in_a_larger_room(trio):
    room_id, alice, bob, carol = trio
    ok(bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
               json={"ignored_users": {alice.user_id: {}}}))
    send_ok(alice, room_id, "for everyone")
    send_ok(alice, room_id, "carol!", **{"m.mentions": {"user_ids": [carol.user_id]}})
    assert counts(sync(bob), room_id) == zero()
    assert counts(sync(carol), room_id) == {"notification_count": 2, "highlight_count": 1}
    ok(bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
               json={"ignored_users": {}}))
    send_ok(alice, room_id, "now bob hears")
    assert counts(sync(bob), room_id)["notification_count"] == 1


def test_events_before_joining_do_not_count(trio, register_user):
    room_id, alice, bob, carol = trio
    send_ok(alice, room_id, "before dave")
    dave = register_user("dave")
    join(dave, room_id)
    assert counts(sync(dave), room_id) == zero()
    send_ok(alice, room_id, "after dave")
    assert counts(sync(dave), room_id)["notification_count"] == 1
    notes = ok(dave.get(f"{V3}/notifications"))["notifications"]
    assert [n["event"]["content"]["body"] for n in notes] == ["after dave"]


def test_left_room_events_are_not_listed(trio):
    room_id, alice, bob, carol = trio
    send_ok(alice, room_id, "while in")
    ok(carol.post(f"{V3}/rooms/{quote(room_id)}/leave", json={}))
    send_ok(alice, room_id, "while out")
    join(carol, room_id)
    send_ok(alice, room_id, "back in")
    notes = ok(carol.get(f"{V3}/notifications"))["notifications"]
    assert [n["event"]["content"]["body"] for n in notes] == ["back in", "while in"]
