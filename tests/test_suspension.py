"""Account suspension (spec: "Account suspension"): set by an admin through the API, a
suspended account keeps reading, leaving, redacting its own events, key backup and logging
out, and is refused (403 M_USER_SUSPENDED) joining, knocking, invites, sending, profile
changes, room creation, media uploads and redacting other users' events."""

from urllib.parse import quote

import pytest

from homeserver.models.users import User

from rooms_support import (V3, create_room, error, invite, join, membership_action, ok, q,
                           redact, send, send_ok, put_state, room_with_members)


def suspend(admin, user, value=True):
    ok(admin.put(f"/_matrix/client/v1/admin/suspend/{quote(user.user_id)}",
                 json={"suspended": value}))


@pytest.fixture
def admin(register_user):
    handle = register_user("admin")
    User.update(is_admin=True).where(User.user_id == handle.user_id).execute()
    return handle


def suspended_error(response):
    body = error(response, 403, "M_USER_SUSPENDED")
    assert isinstance(body["error"], str)


def test_suspended_user_cannot_take_part(admin, register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    other_room = create_room(alice, preset="public_chat")
    knock_room = create_room(alice, room_version="10")
    ok(put_state(alice, knock_room, "m.room.join_rules", {"join_rule": "knock"}))
    alice_event = send_ok(alice, room_id, "from alice")
    suspend(admin, bob)

    suspended_error(send(bob, room_id, "hi"))
    suspended_error(put_state(bob, room_id, "m.room.topic", {"topic": "x"}))
    suspended_error(bob.post(f"{V3}/join/{q(other_room)}", json={}))
    suspended_error(bob.post(f"{V3}/rooms/{q(other_room)}/join", json={}))
    suspended_error(bob.post(f"{V3}/knock/{q(knock_room)}", json={}))
    suspended_error(membership_action(bob, room_id, "invite", user_id=admin.user_id))
    suspended_error(bob.post(f"{V3}/createRoom", json={}))
    suspended_error(bob.put(f"{V3}/profile/{q(bob.user_id)}/displayname",
                            json={"displayname": "New name"}))
    suspended_error(bob.post("/_matrix/media/v3/upload", data=b"hello",
                             headers={"Content-Type": "text/plain"}))
    suspended_error(redact(bob, room_id, alice_event))
    # Nothing was stored by the refused requests.
    members = ok(alice.get(f"{V3}/rooms/{q(other_room)}/joined_members"))["joined"]
    assert bob.user_id not in members


def test_suspended_user_cannot_accept_invites(admin, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice)
    invite(alice, room_id, bob)
    suspend(admin, bob)
    suspended_error(bob.post(f"{V3}/rooms/{q(room_id)}/join", json={}))
    # Rejecting the invite is allowed.
    ok(membership_action(bob, room_id, "leave"))


def test_suspended_user_can_read_leave_redact_own_and_log_out(admin, register_user, client):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    own_event = send_ok(bob, room_id, "mine")
    suspend(admin, bob)
    send_ok(alice, room_id, "still delivered")

    sync = ok(bob.get(f"{V3}/sync"))
    bodies = [e["content"].get("body") for e in
              sync["rooms"]["join"][room_id]["timeline"]["events"]]
    assert "still delivered" in bodies
    messages = ok(bob.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b"))
    assert any(e["content"].get("body") == "still delivered" for e in messages["chunk"])
    ok(bob.get(f"{V3}/profile/{q(alice.user_id)}"))

    ok(redact(bob, room_id, own_event))
    # Key backup stays usable.
    ok(bob.post(f"{V3}/room_keys/version", json={
        "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
        "auth_data": {"public_key": "abc", "signatures": {}}}))
    ok(membership_action(bob, room_id, "leave"))

    # Logging in makes another (also suspended) session; logging out works.
    login = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "bob"},
        "password": bob.password}))
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    suspended_error(client.post(f"{V3}/createRoom", json={}, headers=headers))
    ok(client.post(f"{V3}/logout", headers=headers))
    ok(bob.post(f"{V3}/logout"))


def test_unsuspending_restores_the_account(admin, register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    suspend(admin, bob)
    suspended_error(send(bob, room_id, "no"))
    suspend(admin, bob, False)
    send_ok(bob, room_id, "yes")
    join(bob, create_room(alice, preset="public_chat"))


def test_suspended_profile_capabilities(admin, register_user):
    bob = register_user("bob")
    suspend(admin, bob)
    caps = ok(bob.get(f"{V3}/capabilities"))["capabilities"]
    assert caps["m.set_displayname"] == {"enabled": False}
