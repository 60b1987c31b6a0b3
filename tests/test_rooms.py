"""POST /createRoom, GET /joined_rooms, /state, /members, /joined_members, /event."""

import pytest

from rooms_support import (V3, create_room, error, get_event, get_state_event, invite, join,
                           leave, ok, put_state_ok, q, send_ok, state_map)


def test_create_room_default_version_12(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    state = state_map(alice, room_id)
    create_event = state[("m.room.create", "")]
    assert create_event["content"]["room_version"] == "12"
    assert "creator" not in create_event["content"]
    assert create_event["sender"] == alice.user_id
    # v12: the room ID is the create event's reference hash with the "!" sigil.
    assert room_id == "!" + create_event["event_id"][1:]
    assert state[("m.room.member", alice.user_id)]["content"]["membership"] == "join"
    levels = state[("m.room.power_levels", "")]["content"]
    assert alice.user_id not in levels["users"]
    assert levels["events"]["m.room.tombstone"] > levels["state_default"]
    assert state[("m.room.join_rules", "")]["content"]["join_rule"] == "invite"
    assert state[("m.room.history_visibility", "")]["content"]["history_visibility"] == "shared"
    assert state[("m.room.guest_access", "")]["content"]["guest_access"] == "can_join"


@pytest.mark.parametrize("version", [str(n) for n in range(1, 13)])
def test_create_room_every_version(register_user, version):
    alice = register_user("alice")
    room_id = create_room(alice, room_version=version, name="Room", topic="Topic")
    state = state_map(alice, room_id)
    create_content = state[("m.room.create", "")]["content"]
    assert create_content["room_version"] == version
    if int(version) <= 10:
        assert create_content["creator"] == alice.user_id
    else:
        assert "creator" not in create_content
    levels = state[("m.room.power_levels", "")]["content"]
    if int(version) < 12:
        assert levels["users"] == {alice.user_id: 100}
        assert room_id.endswith(":localhost:8008")
    assert state[("m.room.name", "")]["content"] == {"name": "Room"}
    assert state[("m.room.topic", "")]["content"]["topic"] == "Topic"
    assert state[("m.room.topic", "")]["content"]["m.topic"] == [
        {"body": "Topic", "mimetype": "text/plain"}]
    event_id = send_ok(alice, room_id, "hi")
    if int(version) <= 2:
        assert event_id.startswith("$") and event_id.endswith(":localhost:8008")
    else:
        assert event_id.startswith("$") and ":" not in event_id
    if int(version) == 3:
        assert "-" not in event_id and "_" not in event_id  # standard base64 alphabet
    got = ok(get_event(alice, room_id, event_id))
    assert got["content"]["body"] == "hi"
    assert got["room_id"] == room_id and got["sender"] == alice.user_id


def test_initial_events_in_spec_order(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, room_version="11", room_alias_name="ordered", name="N",
                          topic="T", invite=[bob.user_id],
                          initial_state=[{"type": "m.room.encryption",
                                          "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    # /state lists the events in the order they were appended.
    events = ok(alice.get(f"{V3}/rooms/{q(room_id)}/state"))
    order = [(e["type"], e["state_key"]) for e in events]
    assert order == [
        ("m.room.create", ""), ("m.room.member", alice.user_id), ("m.room.power_levels", ""),
        ("m.room.canonical_alias", ""), ("m.room.join_rules", ""),
        ("m.room.history_visibility", ""), ("m.room.guest_access", ""),
        ("m.room.encryption", ""), ("m.room.name", ""), ("m.room.topic", ""),
        ("m.room.member", bob.user_id)]


def test_public_chat_preset_and_visibility(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, visibility="public")
    state = state_map(alice, room_id)
    assert state[("m.room.join_rules", "")]["content"]["join_rule"] == "public"
    assert state[("m.room.guest_access", "")]["content"]["guest_access"] == "forbidden"
    listed = ok(alice.get(f"{V3}/directory/list/room/{q(room_id)}"))
    assert listed == {"visibility": "public"}
    private = create_room(alice, preset="public_chat")
    assert ok(alice.get(f"{V3}/directory/list/room/{q(private)}")) == {"visibility": "private"}


def test_initial_state_overrides_preset_and_name_overrides_initial_state(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, preset="private_chat", name="Final", initial_state=[
        {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "public"}},
        {"type": "m.room.name", "content": {"name": "Overridden"}},
        {"type": "org.example.custom", "state_key": "k", "content": {"x": 1}}])
    state = state_map(alice, room_id)
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": "public"}
    assert state[("m.room.name", "")]["content"] == {"name": "Final"}
    assert state[("org.example.custom", "k")]["content"] == {"x": 1}


def test_creation_content_space_and_power_level_override(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, creation_content={"type": "m.space", "creator": "@x:y",
                                                   "m.federate": False},
                          power_level_content_override={"users_default": 10,
                                                        "events": {"m.room.name": 100}},
                          invite=[bob.user_id])
    state = state_map(alice, room_id)
    content = state[("m.room.create", "")]["content"]
    assert content["type"] == "m.space" and content["m.federate"] is False
    assert "creator" not in content  # the server overwrites creator
    levels = state[("m.room.power_levels", "")]["content"]
    assert levels["users_default"] == 10 and levels["events"] == {"m.room.name": 100}


def test_trusted_private_chat(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    v12 = create_room(alice, preset="trusted_private_chat", invite=[bob.user_id], is_direct=True)
    state = state_map(alice, v12)
    assert state[("m.room.create", "")]["content"]["additional_creators"] == [bob.user_id]
    invite_event = state[("m.room.member", bob.user_id)]
    assert invite_event["content"]["membership"] == "invite"
    assert invite_event["content"]["is_direct"] is True
    v11 = create_room(alice, preset="trusted_private_chat", invite=[bob.user_id],
                      room_version="11")
    levels = state_map(alice, v11)[("m.room.power_levels", "")]["content"]
    assert levels["users"] == {alice.user_id: 100, bob.user_id: 100}


def test_create_room_errors(register_user):
    alice = register_user("alice")
    url = f"{V3}/createRoom"
    error(alice.post(url, json={"room_version": "13"}), 400, "M_UNSUPPORTED_ROOM_VERSION")
    error(alice.post(url, json={"room_version": "1.5"}), 400, "M_UNSUPPORTED_ROOM_VERSION")
    error(alice.post(url, json={"preset": "party"}), 400, "M_BAD_JSON")
    error(alice.post(url, json={"visibility": True}), 400, "M_BAD_JSON")
    error(alice.post(url, data="nope"), 400, "M_NOT_JSON")
    error(alice.post(url, json={"invite_3pid": [{"id_server": "id.example", "id_access_token":
                                                "t", "medium": "email",
                                                 "address": "a@example.org"}]}),
          400, "M_SERVER_NOT_TRUSTED")
    error(alice.post(url, json={"name": "x" * 300}), 413, "M_TOO_LARGE")
    error(alice.post(url, json={"creation_content": {"x": 1.5}}), 400, "M_BAD_JSON")
    error(alice.post(url, json={"power_level_content_override": {"events_default": "10"}}),
          400, "M_BAD_JSON")
    # The creator's own power level below what the later events need.
    error(alice.post(url, json={"room_version": "11", "name": "N",
                                "power_level_content_override": {
                                    "users": {alice.user_id: 0}}}),
          400, "M_INVALID_ROOM_STATE")
    error(alice.post(url, json={"invite": ["not-a-user"]}), 400, "M_INVALID_PARAM")
    error(alice.post(url, json={"invite": ["@nobody:localhost:8008"]}), 404, "M_NOT_FOUND")
    error(alice.post(url, json={"invite": ["@bob:elsewhere.example"]}), 403, "M_FORBIDDEN")
    create_room(alice, room_alias_name="taken")
    error(alice.post(url, json={"room_alias_name": "taken"}), 400, "M_ROOM_IN_USE")
    error(alice.post(url, json={"room_alias_name": "bad:alias"}), 400, "M_INVALID_PARAM")
    assert len(ok(alice.get(f"{V3}/joined_rooms"))["joined_rooms"]) == 1  # nothing half-made


def test_alias_from_room_alias_name(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_alias_name="lobby")
    alias = "#lobby:localhost:8008"
    assert ok(alice.get(f"{V3}/directory/room/{q(alias)}"))["room_id"] == room_id
    assert state_map(alice, room_id)[("m.room.canonical_alias", "")]["content"] == {
        "alias": alias}


def test_joined_rooms_and_members(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    carol = register_user("carol")
    ok(alice.put(f"{V3}/profile/{q(alice.user_id)}/displayname", json={"displayname": "Alice"}))
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    invite(alice, room_id, carol)
    assert ok(bob.get(f"{V3}/joined_rooms")) == {"joined_rooms": [room_id]}
    assert ok(carol.get(f"{V3}/joined_rooms")) == {"joined_rooms": []}
    joined = ok(bob.get(f"{V3}/rooms/{q(room_id)}/joined_members"))["joined"]
    assert joined == {alice.user_id: {"display_name": "Alice"},
                      bob.user_id: {"display_name": "bob"}}
    error(carol.get(f"{V3}/rooms/{q(room_id)}/joined_members"), 403, "M_FORBIDDEN")

    members = ok(bob.get(f"{V3}/rooms/{q(room_id)}/members"))["chunk"]
    assert {m["state_key"]: m["content"]["membership"] for m in members} == {
        alice.user_id: "join", bob.user_id: "join", carol.user_id: "invite"}
    only_invited = ok(bob.get(f"{V3}/rooms/{q(room_id)}/members?membership=invite"))["chunk"]
    assert [m["state_key"] for m in only_invited] == [carol.user_id]
    not_joined = ok(bob.get(f"{V3}/rooms/{q(room_id)}/members?not_membership=join"))["chunk"]
    assert [m["state_key"] for m in not_joined] == [carol.user_id]
    error(bob.get(f"{V3}/rooms/{q(room_id)}/members?membership=party"), 400, "M_INVALID_PARAM")
    error(carol.get(f"{V3}/rooms/{q(room_id)}/members"), 403, "M_FORBIDDEN")


def test_members_at_a_sync_token(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    token = ok(alice.get(f"{V3}/sync?timeout=0"))["next_batch"]
    join(bob, room_id)
    before = ok(alice.get(f"{V3}/rooms/{q(room_id)}/members?at={token}"))["chunk"]
    assert [m["state_key"] for m in before] == [alice.user_id]
    error(alice.get(f"{V3}/rooms/{q(room_id)}/members?at=garbage"), 400, "M_INVALID_PARAM")


def test_state_of_a_room_left_is_the_state_when_leaving(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat", name="Before")
    join(bob, room_id)
    leave(bob, room_id)
    put_state_ok(alice, room_id, "m.room.name", {"name": "After"})
    assert state_map(bob, room_id)[("m.room.name", "")]["content"] == {"name": "Before"}
    assert ok(get_state_event(bob, room_id, "m.room.name")) == {"name": "Before"}
    members = ok(bob.get(f"{V3}/rooms/{q(room_id)}/members"))["chunk"]
    assert {m["state_key"]: m["content"]["membership"] for m in members}[bob.user_id] == "leave"
    assert ok(alice.get(f"{V3}/joined_rooms")) == {"joined_rooms": [room_id]}
    assert ok(bob.get(f"{V3}/joined_rooms")) == {"joined_rooms": []}


def test_outsiders_cannot_read(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice, name="Secret")
    event_id = send_ok(alice, room_id, "secret")
    error(eve.get(f"{V3}/rooms/{q(room_id)}/state"), 403, "M_FORBIDDEN")
    error(get_state_event(eve, room_id, "m.room.name"), 403, "M_FORBIDDEN")
    error(get_event(eve, room_id, event_id), 404, "M_NOT_FOUND")
    error(eve.get(f"{V3}/rooms/{q('!nope:localhost:8008')}/state"), 403, "M_FORBIDDEN")
    error(alice.get(f"{V3}/rooms/{q(room_id)}/event/{q('$unknown')}"), 404, "M_NOT_FOUND")
    # An invited user who never joined has no state to read yet.
    invite(alice, room_id, eve)
    error(eve.get(f"{V3}/rooms/{q(room_id)}/state"), 403, "M_FORBIDDEN")


def test_world_readable_room_is_readable_by_anyone(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice, initial_state=[{"type": "m.room.history_visibility",
                                                 "content": {"history_visibility":
                                                             "world_readable"}}])
    event_id = send_ok(alice, room_id, "public words")
    assert ok(get_event(eve, room_id, event_id))["content"]["body"] == "public words"
    assert ("m.room.create", "") in state_map(eve, room_id)
    assert ok(eve.get(f"{V3}/rooms/{q(room_id)}/aliases")) == {"aliases": []}


def test_requires_auth(client):
    response = client.post(f"{V3}/createRoom", json={})
    assert response.status_code == 401
    assert client.get(f"{V3}/joined_rooms").status_code == 401
