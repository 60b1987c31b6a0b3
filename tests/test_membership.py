"""Membership endpoints: join (ID and alias), invite, leave, forget, kick, ban, unban, knock."""

from rooms_support import (V3, create_room, error, invite, join, leave, member_content,
                           membership_action, ok, put_state, put_state_ok, q, room_with_members,
                           send, send_ok, state_map)


def test_join_public_room_by_id_and_alias(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    carol = register_user("carol")
    room_id = create_room(alice, preset="public_chat", room_alias_name="pub")
    assert ok(bob.post(f"{V3}/rooms/{q(room_id)}/join", json={}))["room_id"] == room_id
    assert join(carol, "#pub:localhost:8008") == room_id
    assert member_content(alice, room_id, carol)["membership"] == "join"
    error(carol.post(f"{V3}/join/{q('#missing:localhost:8008')}", json={}), 404, "M_NOT_FOUND")
    error(carol.post(f"{V3}/join/{q('!missing:localhost:8008')}", json={}), 404, "M_NOT_FOUND")
    error(carol.post(f"{V3}/join/not-a-room", json={}), 400, "M_INVALID_PARAM")


def test_join_carries_profile_and_reason(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname", json={"displayname": "Bobby"}))
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/avatar_url",
               json={"avatar_url": "mxc://localhost:8008/abc"}))
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id, reason="hello all")
    assert member_content(alice, room_id, bob) == {
        "membership": "join", "displayname": "Bobby", "avatar_url": "mxc://localhost:8008/abc",
        "reason": "hello all"}


def test_join_copies_custom_content(register_user):
    """Other body keys go into the membership content (as Synapse); membership, the restricted
    join authoriser and third_party_signed never do."""
    alice = register_user("alice")
    bob = register_user("bob")
    carol = register_user("carol")
    room_id = create_room(alice, preset="public_chat", room_alias_name="custom")
    ok(bob.post(f"{V3}/join/{q(room_id)}", json={
        "foo": "bar", "nested": {"a": 1}, "membership": "ban", "reason": "hi",
        "join_authorised_via_users_server": alice.user_id}))
    content = member_content(alice, room_id, bob)
    assert content["foo"] == "bar" and content["nested"] == {"a": 1}
    assert content["membership"] == "join" and content["reason"] == "hi"
    assert "join_authorised_via_users_server" not in content
    ok(carol.post(f"{V3}/rooms/{q(room_id)}/join", json={"foo": "baz"}))
    assert member_content(alice, room_id, carol)["foo"] == "baz"
    ok(carol.post(f"{V3}/join/{q('#custom:localhost:8008')}", json={"foo": "qux"}))
    assert member_content(alice, room_id, carol)["foo"] == "qux"


def test_join_without_body(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    ok(bob.post(f"{V3}/rooms/{q(room_id)}/join"))
    assert member_content(alice, room_id, bob)["membership"] == "join"


def test_joining_twice_adds_no_event(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, preset="public_chat")
    before = state_map(alice, room_id)[("m.room.member", alice.user_id)]["event_id"]
    join(alice, room_id)
    assert state_map(alice, room_id)[("m.room.member", alice.user_id)]["event_id"] == before


def test_invite_only_room(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice)  # private_chat: invite only
    body = error(bob.post(f"{V3}/join/{q(room_id)}", json={}), 403, "M_FORBIDDEN")
    assert "not invited" in body["error"]
    invite(alice, room_id, bob, reason="welcome")
    invited = member_content(alice, room_id, bob)
    assert invited["membership"] == "invite" and invited["reason"] == "welcome"
    assert invited["displayname"] == "bob"
    invite(alice, room_id, bob)  # already invited: fine, nothing new
    join(bob, room_id)
    assert member_content(alice, room_id, bob)["membership"] == "join"
    body = error(membership_action(alice, room_id, "invite", user_id=bob.user_id),
                 403, "M_FORBIDDEN")
    assert "already in the room" in body["error"]


def test_invite_errors(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    eve = register_user("eve")
    room_id = create_room(alice)
    error(membership_action(alice, room_id, "invite"), 400, "M_BAD_JSON")
    error(membership_action(alice, room_id, "invite", user_id="bob"), 400, "M_INVALID_PARAM")
    error(membership_action(alice, room_id, "invite", user_id="@ghost:localhost:8008"),
          404, "M_NOT_FOUND")
    error(membership_action(alice, room_id, "invite", user_id="@bob:elsewhere.example"),
          403, "M_FORBIDDEN")
    error(membership_action(eve, room_id, "invite", user_id=bob.user_id), 403, "M_FORBIDDEN")
    error(membership_action(alice, room_id, "invite", id_server="id.example",
                            id_access_token="t", medium="email", address="b@example.org"),
          400, "M_SERVER_NOT_TRUSTED")


def test_invite_power_level(register_user):
    room_id, (alice, bob) = room_with_members(
        register_user, "alice", "bob", power_level_content_override={"invite": 50})
    carol = register_user("carol")
    body = error(membership_action(bob, room_id, "invite", user_id=carol.user_id),
                 403, "M_FORBIDDEN")
    assert "permission to invite" in body["error"]


def test_invite_blocking(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    ok(bob.put(f"{V3}/user/{q(bob.user_id)}/account_data/m.invite_permission_config",
               json={"default_action": "block"}))
    room_id = create_room(alice)
    error(membership_action(alice, room_id, "invite", user_id=bob.user_id),
          403, "M_INVITE_BLOCKED")
    error(put_state(alice, room_id, "m.room.member", {"membership": "invite"}, bob.user_id),
          403, "M_INVITE_BLOCKED")
    # createRoom still succeeds, without that invite.
    other = create_room(alice, invite=[bob.user_id])
    assert ("m.room.member", bob.user_id) not in state_map(alice, other)
    ok(bob.put(f"{V3}/user/{q(bob.user_id)}/account_data/m.invite_permission_config", json={}))
    invite(alice, room_id, bob)


def test_leave_reject_and_rejoin(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice)
    invite(alice, room_id, bob)
    leave(bob, room_id, reason="no thanks")  # rejects the invite
    assert member_content(alice, room_id, bob) == {"membership": "leave", "reason": "no thanks"}
    error(bob.post(f"{V3}/join/{q(room_id)}", json={}), 403, "M_FORBIDDEN")
    leave(bob, room_id)  # leaving twice is not an error
    eve = register_user("eve")
    error(membership_action(eve, room_id, "leave"), 403, "M_FORBIDDEN")
    error(membership_action(eve, "!unknown:localhost:8008", "leave"), 404, "M_NOT_FOUND")


def test_forget(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    body = error(membership_action(bob, room_id, "forget"), 400, "M_UNKNOWN")
    assert "leave" in body["error"]
    leave(bob, room_id)
    ok(membership_action(bob, room_id, "forget"))
    ok(membership_action(bob, room_id, "forget"))
    error(membership_action(bob, "!unknown:localhost:8008", "forget"), 404, "M_NOT_FOUND")
    from homeserver.services.rooms import state
    assert state.is_forgotten(bob.user_id, room_id)
    join(bob, room_id)
    assert not state.is_forgotten(bob.user_id, room_id)


def test_kick(register_user):
    room_id, (alice, bob, carol) = room_with_members(register_user, "alice", "bob", "carol")
    body = error(membership_action(bob, room_id, "kick", user_id=carol.user_id),
                 403, "M_FORBIDDEN")
    assert "permission to kick" in body["error"]
    ok(membership_action(alice, room_id, "kick", user_id=bob.user_id, reason="noisy"))
    assert member_content(alice, room_id, bob) == {"membership": "leave", "reason": "noisy"}
    error(send(bob, room_id, "still here?"), 403, "M_FORBIDDEN")
    join(bob, room_id)  # a kick is not a ban: the public room takes them back
    error(membership_action(alice, room_id, "kick", user_id="@ghost:localhost:8008"),
          403, "M_FORBIDDEN")
    error(membership_action(alice, room_id, "kick"), 400, "M_BAD_JSON")


def test_ban_and_unban(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    carol = register_user("carol")
    error(membership_action(bob, room_id, "ban", user_id=alice.user_id), 403, "M_FORBIDDEN")
    ok(membership_action(alice, room_id, "ban", user_id=bob.user_id, reason="spam"))
    assert member_content(alice, room_id, bob) == {"membership": "ban", "reason": "spam"}
    body = error(bob.post(f"{V3}/join/{q(room_id)}", json={}), 403, "M_FORBIDDEN")
    assert "banned" in body["error"]
    error(membership_action(alice, room_id, "invite", user_id=bob.user_id), 403, "M_FORBIDDEN")
    # Banning someone who never joined works too.
    ok(membership_action(alice, room_id, "ban", user_id=carol.user_id))
    error(membership_action(alice, room_id, "unban", user_id="@x:localhost:8008"),
          403, "M_FORBIDDEN")
    ok(membership_action(alice, room_id, "unban", user_id=bob.user_id))
    assert member_content(alice, room_id, bob)["membership"] == "leave"
    join(bob, room_id)


def test_knock(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, room_alias_name="knocky", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    response = ok(bob.post(f"{V3}/knock/{q('#knocky:localhost:8008')}",
                           json={"reason": "let me in"}))
    assert response == {"room_id": room_id}
    knock = member_content(alice, room_id, bob)
    assert knock["membership"] == "knock" and knock["reason"] == "let me in"
    body = error(alice.post(f"{V3}/knock/{q(room_id)}", json={}), 403, "M_FORBIDDEN")
    assert "already in this room" in body["error"]
    invite(alice, room_id, bob)  # accepting the knock
    join(bob, room_id)
    # Rooms without the knock rule, and room versions before 7, refuse knocks.
    carol = register_user("carol")
    public = create_room(alice, preset="public_chat")
    error(carol.post(f"{V3}/knock/{q(public)}", json={}), 403, "M_FORBIDDEN")
    old = create_room(alice, room_version="6")
    error(carol.post(f"{V3}/knock/{q(old)}", json={}), 403, "M_FORBIDDEN")
    # A knock can be retracted.
    dave = register_user("dave")
    ok(dave.post(f"{V3}/knock/{q(room_id)}", json={}))
    leave(dave, room_id)
    assert member_content(alice, room_id, dave)["membership"] == "leave"


def test_restricted_join(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    eve = register_user("eve")
    space = create_room(alice, preset="public_chat")
    join(bob, space)
    room_id = create_room(alice, room_version="10", initial_state=[
        {"type": "m.room.join_rules",
         "content": {"join_rule": "restricted",
                     "allow": [{"type": "m.room_membership", "room_id": space}]}}])
    join(bob, room_id)
    content = member_content(alice, room_id, bob)
    assert content["membership"] == "join"
    assert content["join_authorised_via_users_server"] == alice.user_id
    body = error(eve.post(f"{V3}/join/{q(room_id)}", json={}), 403, "M_FORBIDDEN")
    assert "join conditions" in body["error"]
    # An invite bypasses the conditions.
    invite(alice, room_id, eve)
    join(eve, room_id)


def test_knock_restricted(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    eve = register_user("eve")
    space = create_room(alice, preset="public_chat")
    join(bob, space)
    room_id = create_room(alice, initial_state=[
        {"type": "m.room.join_rules",
         "content": {"join_rule": "knock_restricted",
                     "allow": [{"type": "m.room_membership", "room_id": space}]}}])
    join(bob, room_id)
    ok(eve.post(f"{V3}/knock/{q(room_id)}", json={}))
    assert member_content(alice, room_id, eve)["membership"] == "knock"


def test_profile_change_updates_member_events(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    lonely = create_room(bob)
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname", json={"displayname": "Robert"}))
    assert member_content(alice, room_id, bob)["displayname"] == "Robert"
    assert member_content(bob, lonely, bob)["displayname"] == "Robert"
    event_id = state_map(bob, room_id)[("m.room.member", bob.user_id)]["event_id"]
    ok(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname", json={"displayname": "Robert"}))
    assert state_map(bob, room_id)[("m.room.member", bob.user_id)]["event_id"] == event_id
    ok(bob.delete(f"{V3}/profile/{q(bob.user_id)}/displayname"))
    assert "displayname" not in member_content(alice, room_id, bob)


def test_membership_in_unsigned(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    before_join = send_ok(alice, room_id, "before bob")
    join(bob, room_id)
    after_join = send_ok(alice, room_id, "after bob")
    leave(bob, room_id)
    seen = ok(bob.get(f"{V3}/rooms/{q(room_id)}/event/{q(before_join)}"))
    assert seen["unsigned"]["membership"] == "leave"
    seen = ok(bob.get(f"{V3}/rooms/{q(room_id)}/event/{q(after_join)}"))
    assert seen["unsigned"]["membership"] == "join"
    put_state_ok(alice, room_id, "m.room.topic", {"topic": "after bob left"})
