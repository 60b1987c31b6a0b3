"""GET /v1/room_summary/{roomIdOrAlias}: who may see which room's summary, and its fields."""

from helpers.api import error, ok, q
from helpers.rooms import create_room, invite, join, put_state_ok, room_with_members

URL = "/_matrix/client/v1/room_summary"


def summary(user, room_id_or_alias):
    return user.get(f"{URL}/{q(room_id_or_alias)}")


def test_public_room_summary_fields(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    carol = register_user("carol")
    put_state_ok(alice, room_id, "m.room.name", {"name": "Cheese"})
    put_state_ok(alice, room_id, "m.room.topic", {"topic": "Tasty"})
    put_state_ok(alice, room_id, "m.room.avatar", {"url": "mxc://localhost:8008/abc"})
    put_state_ok(alice, room_id, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    ok(alice.put(f"/_matrix/client/v3/directory/room/{q('#cheese:localhost:8008')}",
                 json={"room_id": room_id}))
    put_state_ok(alice, room_id, "m.room.canonical_alias", {"alias": "#cheese:localhost:8008"})

    body = ok(summary(carol, room_id))
    version = body.pop("room_version")
    assert isinstance(version, str) and version
    assert body == {
        "room_id": room_id, "name": "Cheese", "topic": "Tasty",
        "avatar_url": "mxc://localhost:8008/abc", "canonical_alias": "#cheese:localhost:8008",
        "num_joined_members": 2, "world_readable": False, "guest_can_join": False,
        "join_rule": "public", "encryption": "m.megolm.v1.aes-sha2", "membership": "leave"}
    assert ok(summary(alice, "#cheese:localhost:8008"))["membership"] == "join"
    # Anyone may preview a public room, even without an access token.
    anonymous = carol.client.get(f"{URL}/{q(room_id)}")
    assert anonymous.status_code == 200
    assert "membership" not in anonymous.get_json()
    assert anonymous.get_json()["name"] == "Cheese"


def test_private_room_only_for_members_and_invitees(register_user):
    alice, bob, carol = (register_user(n) for n in ("alice", "bob", "carol"))
    room_id = create_room(alice, preset="private_chat", name="Secret")
    error(summary(bob, room_id), 404, "M_NOT_FOUND")
    error(bob.client.get(f"{URL}/{q(room_id)}"), 401, "M_MISSING_TOKEN")
    invite(alice, room_id, bob)
    body = ok(summary(bob, room_id))
    assert body["membership"] == "invite" and body["name"] == "Secret"
    assert body["join_rule"] == "invite"
    # A room that does not exist looks the same as one the user may not see.
    error(summary(carol, room_id), 404, "M_NOT_FOUND")
    error(summary(carol, "!nothere:localhost:8008"), 404, "M_NOT_FOUND")
    error(summary(carol, "#nothere:localhost:8008"), 404, "M_NOT_FOUND")
    error(summary(carol, "not-a-room"), 400, "M_INVALID_PARAM")


def test_world_readable_and_knock_rooms_are_visible(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    readable = create_room(alice, preset="private_chat")
    put_state_ok(alice, readable, "m.room.history_visibility",
                 {"history_visibility": "world_readable"})
    assert ok(summary(bob, readable))["world_readable"] is True
    assert bob.client.get(f"{URL}/{q(readable)}").status_code == 200

    knock = create_room(alice, room_version="10", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    assert ok(summary(bob, knock))["join_rule"] == "knock"
    ok(bob.post(f"/_matrix/client/v3/knock/{q(knock)}", json={}))
    assert ok(summary(bob, knock))["membership"] == "knock"


def test_restricted_room_visible_to_members_of_allowed_rooms(register_user):
    alice, bob, carol = (register_user(n) for n in ("alice", "bob", "carol"))
    space = create_room(alice, preset="public_chat")
    join(bob, space)
    restricted = create_room(alice, room_version="10", initial_state=[
        {"type": "m.room.join_rules",
         "content": {"join_rule": "restricted",
                     "allow": [{"type": "m.room_membership", "room_id": space}]}}])
    body = ok(summary(bob, restricted))
    assert body["allowed_room_ids"] == [space]
    assert body["join_rule"] == "restricted" and body["membership"] == "leave"
    error(summary(carol, restricted), 404, "M_NOT_FOUND")
