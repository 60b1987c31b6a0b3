"""Attack: join a restricted (or knock_restricted) room without meeting its allow rules by
sending the m.room.member event through PUT /state with a self-chosen
``join_authorised_via_users_server``; and bypass the dedicated membership endpoints' checks
(invite blocking, kick/unban preconditions, knock support) through the same PUT /state."""

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, invite, join, member_content, put_state, room_with_members


def _restricted_room(alice, space, rule="restricted", version="10"):
    return create_room(alice, room_version=version, preset="private_chat", initial_state=[
        {"type": "m.room.join_rules",
         "content": {"join_rule": rule,
                     "allow": [{"type": "m.room_membership", "room_id": space}]}}])


@pytest.mark.parametrize("rule", ["restricted", "knock_restricted"])
def test_self_authorised_join_through_state_is_refused(register_user, rule):
    alice = register_user("alice")
    eve = register_user("eve")
    space = create_room(alice, preset="private_chat")  # eve is not in it
    room_id = _restricted_room(alice, space, rule)
    forged = {"membership": "join", "join_authorised_via_users_server": alice.user_id}
    error(put_state(eve, room_id, "m.room.member", forged, eve.user_id), 403, "M_FORBIDDEN")
    members = ok(alice.get(f"{V3}/rooms/{q(room_id)}/joined_members"))["joined"]
    assert eve.user_id not in members


def test_state_join_gets_the_servers_authorisation(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    carol = register_user("carol")
    space = create_room(alice, preset="public_chat")
    join(bob, space)
    room_id = _restricted_room(alice, space)
    # bob meets the allow rule: the server names the authoriser, whatever the client said.
    claimed = {"membership": "join", "join_authorised_via_users_server": carol.user_id}
    ok(put_state(bob, room_id, "m.room.member", claimed, bob.user_id))
    content = member_content(alice, room_id, bob)
    assert content["membership"] == "join"
    assert content["join_authorised_via_users_server"] == alice.user_id


def test_invite_through_state_respects_invite_blocking(register_user):
    room_id, (alice,) = room_with_members(register_user, "alice")
    bob = register_user("bob")
    ok(bob.put(f"{V3}/user/{q(bob.user_id)}/account_data/m.invite_permission_config",
               json={"default_action": "block"}))
    response = put_state(alice, room_id, "m.room.member", {"membership": "invite"}, bob.user_id)
    assert response.status_code == 403, response.get_json()
    assert ("m.room.member", bob.user_id) not in {
        (e["type"], e["state_key"]) for e in ok(alice.get(f"{V3}/rooms/{q(room_id)}/state"))}


def test_invite_through_state_of_unknown_or_remote_user(register_user):
    room_id, (alice,) = room_with_members(register_user, "alice")
    error(put_state(alice, room_id, "m.room.member", {"membership": "invite"},
                    "@nobody:localhost:8008"), 404, "M_NOT_FOUND")
    error(put_state(alice, room_id, "m.room.member", {"membership": "invite"},
                    "@someone:elsewhere.example"), 403, "M_FORBIDDEN")


def test_kick_and_ban_through_state_need_power(register_user):
    room_id, (alice, bob, eve) = room_with_members(register_user, "alice", "bob", "eve")
    error(put_state(eve, room_id, "m.room.member", {"membership": "leave"}, bob.user_id),
          403, "M_FORBIDDEN")
    error(put_state(eve, room_id, "m.room.member", {"membership": "ban"}, bob.user_id),
          403, "M_FORBIDDEN")
    assert member_content(alice, room_id, bob)["membership"] == "join"
    # With power, the same requests work, and unbanning needs an existing ban.
    ok(put_state(alice, room_id, "m.room.member", {"membership": "ban"}, eve.user_id))
    assert member_content(alice, room_id, eve)["membership"] == "ban"
    ok(put_state(alice, room_id, "m.room.member", {"membership": "leave"}, eve.user_id))
    outsider = register_user("outsider")
    error(put_state(alice, room_id, "m.room.member", {"membership": "leave"},
                    outsider.user_id), 403, "M_FORBIDDEN")


def test_join_through_state_of_invite_only_room(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice, preset="private_chat")
    error(put_state(eve, room_id, "m.room.member", {"membership": "join"}, eve.user_id),
          403, "M_FORBIDDEN")
    invite(alice, room_id, eve)
    ok(put_state(eve, room_id, "m.room.member", {"membership": "join"}, eve.user_id))
    assert member_content(alice, room_id, eve)["membership"] == "join"
