"""History visibility (spec module "Room History Visibility") on GET /event: each event is
judged by the state at that event."""

import pytest

from helpers.api import error, ok
from helpers.rooms import (create_room, get_event, invite, join, leave, put_state_ok, send_ok,
                           state_map)


def room_with_visibility(user, visibility):
    return create_room(user, preset="public_chat", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": visibility}}])


def visible(user, room_id, event_id) -> bool:
    response = get_event(user, room_id, event_id)
    if response.status_code == 404:
        assert response.get_json()["errcode"] == "M_NOT_FOUND"
        return False
    ok(response)
    return True


@pytest.mark.parametrize("visibility,sees_before_join", [
    ("world_readable", True), ("shared", True), ("invited", False), ("joined", False)])
def test_history_before_joining(register_user, visibility, sees_before_join):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = room_with_visibility(alice, visibility)
    before = send_ok(alice, room_id, "before bob")
    join(bob, room_id)
    during = send_ok(alice, room_id, "while bob is here")
    leave(bob, room_id)
    after = send_ok(alice, room_id, "after bob left")
    assert visible(bob, room_id, before) is sees_before_join
    assert visible(bob, room_id, during)
    assert visible(bob, room_id, after) is (visibility == "world_readable")


def test_invited_visibility_starts_at_the_invite(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": "invited"}}])
    before = send_ok(alice, room_id, "before the invite")
    invite(alice, room_id, bob)
    while_invited = send_ok(alice, room_id, "while invited")
    join(bob, room_id)
    assert not visible(bob, room_id, before)
    assert visible(bob, room_id, while_invited)


def test_outsiders_see_only_world_readable_events(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = room_with_visibility(alice, "joined")
    hidden = send_ok(alice, room_id, "members only")
    change = put_state_ok(alice, room_id, "m.room.history_visibility",
                          {"history_visibility": "world_readable"})
    public = send_ok(alice, room_id, "for everyone")
    back = put_state_ok(alice, room_id, "m.room.history_visibility",
                        {"history_visibility": "joined"})
    hidden_again = send_ok(alice, room_id, "members only again")
    assert not visible(eve, room_id, hidden)
    assert visible(eve, room_id, change)  # world_readable after the change
    assert visible(eve, room_id, public)
    assert visible(eve, room_id, back)  # world_readable before the change
    assert not visible(eve, room_id, hidden_again)


def test_own_membership_events_stay_visible(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = room_with_visibility(alice, "joined")
    join(bob, room_id)
    leave(bob, room_id)
    leave_event = state_map(alice, room_id)[("m.room.member", bob.user_id)]["event_id"]
    assert visible(bob, room_id, leave_event)
    join(bob, room_id)
    ok(alice.post(f"/_matrix/client/v3/rooms/{room_id}/ban", json={"user_id": bob.user_id}))
    ban_event = state_map(alice, room_id)[("m.room.member", bob.user_id)]["event_id"]
    assert visible(bob, room_id, ban_event)
    # The unban (ban -> leave) shows bob joined neither before nor after it.
    ok(alice.post(f"/_matrix/client/v3/rooms/{room_id}/unban", json={"user_id": bob.user_id}))
    unban_event = state_map(alice, room_id)[("m.room.member", bob.user_id)]["event_id"]
    assert not visible(bob, room_id, unban_event)


def test_unknown_visibility_counts_as_shared(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = room_with_visibility(alice, "org.example.unknown")
    before = send_ok(alice, room_id, "before")
    join(bob, room_id)
    assert visible(bob, room_id, before)
    error(get_event(register_user("eve"), room_id, before), 404, "M_NOT_FOUND")
