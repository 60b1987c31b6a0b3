"""Lazy-loading room members in /sync (spec: Lazy-loading room members): only the senders'
members, never again what the device already has (unless include_redundant_members), always
the gap's membership changes on a limited sync, and again after a lost response."""

import pytest

from helpers.rooms import create_room, invite, join, leave, put_state_ok, send_ok
from helpers.sync import joined, sync, sync_path

LAZY = {"room": {"state": {"lazy_load_members": True}, "timeline": {"limit": 2}}}
REDUNDANT = {"room": {"state": {"lazy_load_members": True, "include_redundant_members": True},
                      "timeline": {"limit": 2}}}


def members(entry):
    return {e["state_key"] for e in entry["state"]["events"] if e["type"] == "m.room.member"}


@pytest.fixture
def users(register_user):
    return [register_user(name) for name in ("alice", "bob", "carol", "dave", "erin")]


@pytest.fixture
def room_of_users(users):
    """The ID of a public room of the first of ``users`` that the others joined."""
    alice = users[0]
    room_id = create_room(alice, preset="public_chat", name="Lazy room")
    for user in users[1:]:
        join(user, room_id)
    return room_id


def test_initial_lazy_sync_sends_only_needed_members(users, room_of_users):
    alice, bob, carol, dave, erin = users
    for user in (bob, carol, bob):
        send_ok(user, room_of_users, f"from {user.user_id}")
    entry = joined(sync(erin, filter=LAZY), room_of_users)
    assert members(entry) == {bob.user_id, carol.user_id, erin.user_id}
    # Without lazy-loading every member is there.
    full = joined(sync(erin), room_of_users)
    assert {alice.user_id, bob.user_id, carol.user_id, dave.user_id, erin.user_id} <= (
        members(full) | {e["state_key"] for e in full["timeline"]["events"]
                         if e["type"] == "m.room.member"})


def test_incremental_lazy_sync_skips_redundant_members(users, room_of_users):
    alice, bob, carol, dave, erin = users
    send_ok(bob, room_of_users, "hi")
    first = sync(erin, filter=LAZY)
    assert bob.user_id in members(joined(first, room_of_users))
    send_ok(bob, room_of_users, "again")
    send_ok(dave, room_of_users, "new sender")
    entry = joined(sync(erin, filter=LAZY, since=first["next_batch"]), room_of_users)
    assert members(entry) == {dave.user_id}
    # include_redundant_members sends them anyway.
    again = joined(sync(erin, filter=REDUNDANT, since=first["next_batch"]), room_of_users)
    assert members(again) == {bob.user_id, dave.user_id}


def test_changed_member_is_sent_again(users, room_of_users):
    alice, bob, carol, dave, erin = users
    send_ok(bob, room_of_users, "hi")
    first = sync(erin, filter=LAZY)
    put_state_ok(bob, room_of_users, "m.room.member",
                 {"membership": "join", "displayname": "Bobby"}, state_key=bob.user_id)
    for i in range(4):
        send_ok(carol, room_of_users, f"filler {i}")
    send_ok(bob, room_of_users, "renamed")
    # Bob's rename happened in the gap of a limited sync: it must be in the state.
    entry = joined(sync(erin, filter=LAZY, since=first["next_batch"]), room_of_users)
    assert entry["timeline"]["limited"] is True
    renamed = [e for e in entry["state"]["events"] if e["state_key"] == bob.user_id]
    assert renamed and renamed[0]["content"]["displayname"] == "Bobby"


def test_lost_response_is_resent(users, room_of_users):
    alice, bob, carol, dave, erin = users
    send_ok(bob, room_of_users, "hi")
    first = sync(erin, filter=LAZY)
    send_ok(carol, room_of_users, "hello")
    lost = joined(sync(erin, filter=LAZY, since=first["next_batch"]), room_of_users)
    assert members(lost) == {carol.user_id}
    # The client never got that response and syncs from the same token again.
    retry = joined(sync(erin, filter=LAZY, since=first["next_batch"]), room_of_users)
    assert members(retry) == {carol.user_id}


def test_other_device_has_its_own_memory(users, room_of_users, client):
    alice, bob, carol, dave, erin = users
    send_ok(bob, room_of_users, "hi")
    sync(erin, filter=LAZY)
    response = client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "erin"},
        "password": erin.password})
    token = response.get_json()["access_token"]
    body = client.get(sync_path(filter=LAZY),
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert bob.user_id in members(joined(body, room_of_users))


def test_own_member_is_included_on_initial_sync(users, room_of_users):
    alice, bob, carol, dave, erin = users
    for i in range(5):
        send_ok(alice, room_of_users, f"{i}")
    entry = joined(sync(erin, filter=LAZY), room_of_users)
    assert erin.user_id in members(entry)


def test_heroes_members_are_included(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room_of_users = create_room(alice, preset="public_chat")
    join(bob, room_of_users)
    for i in range(4):
        send_ok(alice, room_of_users, f"{i}")
    entry = joined(sync(alice, filter=LAZY), room_of_users)
    assert entry["summary"]["m.heroes"] == [bob.user_id]
    assert bob.user_id in members(entry)


def test_lazy_initial_sync_summaries_match_the_full_state(users, room_of_users):
    """A lazy initial sync loads only the members it sends; its summaries (counts, heroes,
    the fallback to those who left) are still those of the whole membership."""
    alice, bob, carol, dave, erin = users
    unnamed = create_room(alice, preset="public_chat")
    join(bob, unnamed)
    join(dave, unnamed)
    invite(alice, unnamed, carol.user_id)
    leave(dave, unnamed)
    deserted = create_room(alice, preset="public_chat")
    join(erin, deserted)
    leave(erin, deserted)
    for room_id in (room_of_users, unnamed, deserted):
        send_ok(alice, room_id, "hello")
    lazy, full = sync(alice, filter=LAZY), sync(alice)
    assert joined(lazy, unnamed)["summary"] == {
        "m.joined_member_count": 2, "m.invited_member_count": 1,
        "m.heroes": [bob.user_id, carol.user_id]}
    assert joined(lazy, deserted)["summary"]["m.heroes"] == [erin.user_id]
    assert joined(lazy, room_of_users)["summary"] == {
        "m.joined_member_count": 5, "m.invited_member_count": 0}
    for room_id in (room_of_users, unnamed, deserted):
        assert joined(lazy, room_id)["summary"] == joined(full, room_id)["summary"]
    # The named room: no heroes, and the timeline's senders are alice and erin (who joined
    # in it, so had no member event at its start).
    assert members(joined(lazy, room_of_users)) == {alice.user_id}
