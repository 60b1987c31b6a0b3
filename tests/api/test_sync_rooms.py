"""/sync room sections: invites (stripped state), joins, leaves (include_leave), kicks and bans,
knocks, a room left and joined again between syncs, forgotten rooms, room summaries, history
visibility and ignored users."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, invite, join, leave, put_state_ok, send_ok
from helpers.sync import event_ids, joined, state_keys, sync, timeline_ids


def test_invite_shows_stripped_state(alice, bob):
    room = create_room(alice, name="Invite me")
    since = sync(bob)["next_batch"]
    invite(alice, room, bob)
    body = sync(bob, since=since)
    assert room not in body["rooms"]["join"]
    events = body["rooms"]["invite"][room]["invite_state"]["events"]
    for event in events:
        assert set(event) == {"type", "state_key", "sender", "content"}
    by_key = {(e["type"], e["state_key"]): e for e in events}
    assert ("m.room.create", "") in by_key
    assert by_key[("m.room.name", "")]["content"] == {"name": "Invite me"}
    member = by_key[("m.room.member", bob.user_id)]
    assert member["content"]["membership"] == "invite"
    assert member["sender"] == alice.user_id
    # Shown once, and again on an initial sync.
    assert room not in sync(bob, since=body["next_batch"])["rooms"]["invite"]
    assert room in sync(bob)["rooms"]["invite"]


def test_join_after_invite_gives_full_state(alice, bob):
    room = create_room(alice, topic="the topic")
    for i in range(3):
        send_ok(alice, room, f"history {i}")
    invite(alice, room, bob)
    since = sync(bob)["next_batch"]
    join(bob, room)
    body = sync(bob, since=since, filter={"room": {"timeline": {"limit": 2}}})
    assert room not in body["rooms"]["invite"]
    entry = joined(body, room)
    assert entry["timeline"]["events"][-1]["state_key"] == bob.user_id
    all_state = state_keys(entry["state"]["events"]) | {
        (e["type"], e["state_key"]) for e in entry["timeline"]["events"] if "state_key" in e}
    assert ("m.room.create", "") in all_state
    assert ("m.room.topic", "") in all_state
    assert entry["summary"]["m.joined_member_count"] == 2


def test_sender_sees_join_of_other_user(alice, bob):
    room = create_room(alice, preset="public_chat")
    since = sync(alice)["next_batch"]
    join(bob, room)
    entry = joined(sync(alice, since=since), room)
    [event] = entry["timeline"]["events"]
    assert (event["type"], event["state_key"]) == ("m.room.member", bob.user_id)
    assert entry["summary"]["m.joined_member_count"] == 2


def test_leave_appears_once_in_leave_section(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    since = sync(bob)["next_batch"]
    send_ok(alice, room, "before bob leaves")
    leave(bob, room)
    send_ok(alice, room, "after bob left")
    body = sync(bob, since=since)
    assert room not in body["rooms"]["join"]
    timeline = body["rooms"]["leave"][room]["timeline"]["events"]
    assert [e.get("content", {}).get("body") for e in timeline][0] == "before bob leaves"
    assert timeline[-1]["state_key"] == bob.user_id
    assert timeline[-1]["content"]["membership"] == "leave"
    # Nothing after the leave; next incremental sync no longer mentions the room.
    assert room not in sync(bob, since=body["next_batch"])["rooms"]["leave"]


def test_include_leave_on_initial_sync(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    leave(bob, room)
    assert room not in sync(bob)["rooms"]["leave"]
    body = sync(bob, filter={"room": {"include_leave": True}})
    entry = body["rooms"]["leave"][room]
    assert entry["timeline"]["events"][-1]["content"]["membership"] == "leave"


def test_forgotten_room_is_not_listed(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    leave(bob, room)
    ok(bob.post(f"{V3}/rooms/{quote(room)}/forget", json={}))
    assert room not in sync(bob, filter={"room": {"include_leave": True}})["rooms"]["leave"]


@pytest.mark.parametrize("action", ["kick", "ban"])
def test_kick_and_ban_land_in_leave(alice, bob, action):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    since = sync(bob)["next_batch"]
    ok(alice.post(f"{V3}/rooms/{quote(room)}/{action}",
                  json={"user_id": bob.user_id, "reason": "test"}))
    body = sync(bob, since=since)
    assert room not in body["rooms"]["join"]
    last = body["rooms"]["leave"][room]["timeline"]["events"][-1]
    assert last["content"]["membership"] == ("leave" if action == "kick" else "ban")


def test_rejected_invite_moves_to_leave(alice, bob):
    room = create_room(alice)
    invite(alice, room, bob)
    since = sync(bob)["next_batch"]
    leave(bob, room)
    body = sync(bob, since=since)
    assert room not in body["rooms"]["invite"]
    assert room in body["rooms"]["leave"]


def test_left_and_rejoined_between_syncs(alice, bob):
    room = create_room(alice, preset="public_chat", topic="t1")
    join(bob, room)
    since = sync(bob)["next_batch"]
    leave(bob, room)
    put_state_ok(alice, room, "m.room.topic", {"topic": "changed while away"})
    join(bob, room)
    body = sync(bob, since=since, filter={"room": {"timeline": {"limit": 1}}})
    assert room not in body["rooms"]["leave"]
    entry = joined(body, room)
    assert entry["timeline"]["events"][-1]["state_key"] == bob.user_id
    # The whole state again, with what changed while away.
    state = {(e["type"], e["state_key"]): e for e in entry["state"]["events"]}
    assert ("m.room.create", "") in state
    assert state[("m.room.topic", "")]["content"]["topic"] == "changed while away"


def test_knock_shows_knock_state(alice, bob):
    room = create_room(alice, room_version="10", initial_state=[
        {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}])
    since = sync(bob)["next_batch"]
    ok(bob.post(f"{V3}/knock/{quote(room)}", json={"reason": "let me in"}))
    body = sync(bob, since=since)
    events = body["rooms"]["knock"][room]["knock_state"]["events"]
    by_key = {(e["type"], e["state_key"]): e for e in events}
    assert by_key[("m.room.member", bob.user_id)]["content"]["membership"] == "knock"
    assert ("m.room.create", "") in by_key
    assert ("m.room.join_rules", "") in by_key
    # The room admin sees the knock in the timeline.
    assert room in sync(alice)["rooms"]["join"]


def test_summary_heroes_and_counts(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice)
    invite(alice, room, bob)
    invite(alice, room, carol)
    join(bob, room)
    summary = joined(sync(alice), room)["summary"]
    assert summary["m.joined_member_count"] == 2
    assert summary["m.invited_member_count"] == 1
    assert sorted(summary["m.heroes"]) == sorted([bob.user_id, carol.user_id])
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "no membership change")
    # Unchanged since the last sync: the summary may be left out.
    assert "summary" not in joined(sync(alice, since=since), room)
    put_state_ok(alice, room, "m.room.name", {"name": "Named"})
    assert "m.heroes" not in joined(sync(alice), room)["summary"]


def test_history_visibility_joined_hides_earlier_messages(alice, bob):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    secret = send_ok(alice, room, "before bob")
    join(bob, room)
    after = send_ok(alice, room, "after bob")
    entry = joined(sync(bob, filter={"room": {"timeline": {"limit": 50}}}), room)
    ids = event_ids(entry["timeline"]["events"])
    assert secret not in ids
    assert after in ids
    # Alice still sees everything.
    assert secret in timeline_ids(sync(alice, filter={"room": {"timeline": {"limit": 50}}}), room)


def test_history_visibility_shared_shows_earlier_messages(alice, bob):
    room = create_room(alice, preset="public_chat")
    earlier = send_ok(alice, room, "before bob")
    join(bob, room)
    entry = joined(sync(bob, filter={"room": {"timeline": {"limit": 50}}}), room)
    assert earlier in event_ids(entry["timeline"]["events"])


def test_ignored_users_messages_are_hidden(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    join(carol, room)
    ok(bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
               json={"ignored_users": {carol.user_id: {}}}))
    since = sync(bob)["next_batch"]
    hidden = send_ok(carol, room, "ignored")
    shown = send_ok(alice, room, "not ignored")
    ids = timeline_ids(sync(bob, since=since), room)
    assert hidden not in ids
    assert shown in ids


def test_invite_from_ignored_user_is_hidden(alice, bob):
    ok(bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
               json={"ignored_users": {alice.user_id: {}}}))
    room = create_room(alice)
    invite(alice, room, bob)
    assert room not in sync(bob)["rooms"]["invite"]


def test_room_joined_since_is_limited(alice, bob):
    room = create_room(alice, preset="public_chat")
    for n in range(3):
        send_ok(alice, room, f"before {n}")
    since = sync(bob)["next_batch"]
    join(bob, room)
    body = sync(bob, since=since, filter={"room": {"timeline": {"limit": 50}}})
    timeline = joined(body, room)["timeline"]
    # Every event fits, yet the timeline is limited: the client resets the room (Synapse).
    assert timeline["limited"] is True
    assert [e["content"].get("body") for e in timeline["events"]
            if e["type"] == "m.room.message"] == ["before 0", "before 1", "before 2"]
    # The next sync of the room is an ordinary delta again.
    send_ok(alice, room, "after")
    again = joined(sync(bob, since=body["next_batch"]), room)["timeline"]
    assert again["limited"] is False
    # An initial sync with room for everything is not limited.
    assert joined(sync(bob, filter={"room": {"timeline": {"limit": 50}}}),
                  room)["timeline"]["limited"] is False


def test_incremental_sync_has_no_empty_room_entries(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    only_messages = {"room": {"timeline": {"types": ["m.room.message"], "limit": 10},
                              "state": {"types": []}}}
    since = sync(alice, filter=only_messages)["next_batch"]
    put_state_ok(alice, room, "m.room.topic", {"topic": "filtered out"})
    send_ok(bob, room, "not a message", event_type="org.example.other")
    body = sync(alice, since=since, filter=only_messages)
    assert body["rooms"]["join"] == {}
    # Something the filters let through brings the room back.
    send_ok(bob, room, "a message")
    body = sync(alice, since=body["next_batch"], filter=only_messages)
    assert [e["content"]["body"] for e in joined(body, room)["timeline"]["events"]] == [
        "a message"]


def test_filtered_out_profile_change_and_own_message_list_no_room(alice, bob):
    """A displayname change (the summary stays the same) and the user's own message (the unread
    counts stay the same), all filtered out: an incremental sync lists no room, as Synapse."""
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    nothing = {"room": {"timeline": {"types": []}, "state": {"types": ["a.madeup.state"]},
                        "ephemeral": {"types": []}}, "presence": {"types": []}}
    put_state_ok(alice, room, "a.madeup.state", {"my_key": 1})
    since = sync(alice, filter=nothing)["next_batch"]
    put_state_ok(alice, room, "m.room.member", {"membership": "join", "displayname": "boris"},
                 alice.user_id)
    send_ok(alice, room, "my own message")
    body = sync(alice, since=since, filter=nothing)
    assert body["rooms"]["join"] == {}
    # Bob's message changes alice's unread count: the room is listed, with the new count.
    send_ok(bob, room, "for alice")
    body = sync(alice, since=body["next_batch"], filter=nothing)
    assert joined(body, room)["unread_notifications"]["notification_count"] == 1
    # A membership change changes the summary: listed too.
    leave(bob, room)
    body = sync(alice, since=body["next_batch"], filter=nothing)
    assert joined(body, room)["summary"]["m.joined_member_count"] == 1


def test_current_state_shows_in_the_timeline_despite_history_visibility(register_user):
    """Events of the current state are in a joined room's timeline even when history
    visibility hides their time (as Synapse's always_include_ids): a member who left and came
    back sees who joined meanwhile. Messages of that time stay hidden."""
    creator = register_user("creator")
    syncer = register_user("syncer")
    invitee = register_user("invitee")
    room = create_room(creator, preset="public_chat")
    join(syncer, room)
    put_state_ok(creator, room, "m.room.history_visibility", {"history_visibility": "joined"})
    invite(creator, room, invitee)
    since = sync(syncer)["next_batch"]
    leave(syncer, room)
    join(invitee, room)
    hidden = send_ok(creator, room, "while syncer was away")
    put_state_ok(creator, room, "m.room.topic", {"topic": "old"})
    put_state_ok(creator, room, "m.room.topic", {"topic": "new"})
    join(syncer, room)
    events = joined(sync(syncer, since=since), room)["timeline"]["events"]
    assert any(e["type"] == "m.room.member" and e["state_key"] == invitee.user_id
               and e["content"]["membership"] == "join" for e in events)
    ids = event_ids(events)
    assert hidden not in ids
    topics = [e["content"]["topic"] for e in events if e["type"] == "m.room.topic"]
    assert topics == ["new"]  # the replaced topic is not current state: still hidden
    # A room the user left shows nothing of the time they were away.
    leave(syncer, room)
    put_state_ok(creator, room, "m.room.topic", {"topic": "after leaving"})
    body = sync(syncer, filter={"room": {"include_leave": True}})
    left = body["rooms"]["leave"].get(room, {"timeline": {"events": []}})
    assert "after leaving" not in [e["content"].get("topic") for e in left["timeline"]["events"]]
