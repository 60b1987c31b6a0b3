"""PUT/GET /rooms/{roomId}/state/{eventType}/{stateKey} and unsigned on state events."""

from helpers.api import V3, error, ok, q
from helpers.rooms import (create_room, get_event, get_state_event, join, put_state, put_state_ok,
                           room_with_members, state_map)


def test_put_and_get_state(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    event_id = put_state_ok(alice, room_id, "org.example.colour", {"c": "red"}, "wall")
    assert ok(get_state_event(alice, room_id, "org.example.colour", "wall")) == {"c": "red"}
    full = ok(get_state_event(alice, room_id, "org.example.colour", "wall", format="event"))
    assert full["event_id"] == event_id and full["state_key"] == "wall"
    assert full["sender"] == alice.user_id and full["content"] == {"c": "red"}
    error(get_state_event(alice, room_id, "org.example.colour", "floor"), 404, "M_NOT_FOUND")
    error(get_state_event(alice, room_id, "m.room.name", format="xml"), 400, "M_INVALID_PARAM")


def test_empty_state_key_with_and_without_trailing_slash(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    base = f"{V3}/rooms/{q(room_id)}/state/m.room.topic"
    ok(alice.put(base, json={"topic": "no slash"}))
    assert ok(alice.get(base + "/")) == {"topic": "no slash"}
    ok(alice.put(base + "/", json={"topic": "slash"}))
    assert ok(alice.get(base)) == {"topic": "slash"}


def test_state_keys_with_slashes_and_user_ids(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat", power_level_content_override={
        "state_default": 0, "events": {"m.room.topic": 50}})
    join(bob, room_id)
    put_state_ok(alice, room_id, "org.example.path", {"v": 1}, "a/b/c")
    assert ok(get_state_event(alice, room_id, "org.example.path", "a/b/c")) == {"v": 1}
    put_state_ok(alice, room_id, "org.example.mine", {"v": 2}, alice.user_id)
    # State keys that are user IDs belong to that user.
    ok(put_state(bob, room_id, "org.example.bobs", {"v": 3}, bob.user_id))
    body = error(put_state(bob, room_id, "m.room.topic", {"topic": "x"}), 403, "M_FORBIDDEN")
    assert "power level" in body["error"]
    error(put_state(bob, room_id, "org.example.mine", {"v": 4}, alice.user_id), 403,
          "M_FORBIDDEN")


def test_replaces_state_and_prev_content(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, name="One")
    first = state_map(alice, room_id)[("m.room.name", "")]["event_id"]
    second = put_state_ok(alice, room_id, "m.room.name", {"name": "Two"})
    event = ok(get_event(alice, room_id, second))
    assert event["unsigned"]["replaces_state"] == first
    assert event["unsigned"]["prev_content"] == {"name": "One"}
    first_event = ok(get_event(alice, room_id, first))
    assert "replaces_state" not in first_event["unsigned"]
    assert "prev_content" not in first_event["unsigned"]


def test_prev_content_hidden_when_previous_event_invisible(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat", name="Secret name", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}}])
    join(bob, room_id)
    renamed = put_state_ok(alice, room_id, "m.room.name", {"name": "Public name"})
    event = ok(get_event(bob, room_id, renamed))
    assert "replaces_state" in event["unsigned"]
    assert "prev_content" not in event["unsigned"]


def test_content_validation(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_version="10")
    error(put_state(alice, room_id, "m.room.power_levels", {"users_default": "5"}),
          400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.power_levels", {"ban": 50.5}), 400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.join_rules", {"join_rule": 3}), 400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.member", {"membership": "dance"}, alice.user_id),
          400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.member", {"membership": "join"}, "not-a-user"),
          400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.history_visibility", {}), 400, "M_BAD_JSON")
    error(put_state(alice, room_id, "m.room.name", {"name": "n" * 256}), 413, "M_TOO_LARGE")
    error(put_state(alice, room_id, "org.example", {"v": 1}, "k" * 256), 413, "M_TOO_LARGE")
    old = create_room(alice, room_version="6")
    error(put_state(alice, old, "m.room.member", {"membership": "knock"}, alice.user_id),
          400, "M_BAD_JSON")


def test_canonical_alias_must_point_to_room(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_alias_name="here")
    other = create_room(alice, room_alias_name="there")
    error(put_state(alice, room_id, "m.room.canonical_alias", {"alias": "#there:localhost:8008"}),
          400, "M_BAD_ALIAS")
    error(put_state(alice, room_id, "m.room.canonical_alias", {"alias": "#nowhere:localhost:8008"}),
          400, "M_BAD_ALIAS")
    error(put_state(alice, room_id, "m.room.canonical_alias", {"alias": "not an alias"}),
          400, "M_INVALID_PARAM")
    error(put_state(alice, room_id, "m.room.canonical_alias",
                    {"alias": "#here:localhost:8008", "alt_aliases": ["#there:localhost:8008"]}),
          400, "M_BAD_ALIAS")
    ok(alice.put(f"{V3}/directory/room/{q('#second:localhost:8008')}", json={"room_id": room_id}))
    put_state_ok(alice, room_id, "m.room.canonical_alias",
                 {"alias": "#here:localhost:8008", "alt_aliases": ["#second:localhost:8008"]})
    # Aliases already in the event are not checked again, even if they moved since.
    ok(alice.delete(f"{V3}/directory/room/{q('#there:localhost:8008')}"))
    assert other


def test_member_state_follows_membership_rules(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    carol = register_user("carol")
    # A direct PUT of m.room.member obeys the same auth rules as /invite, /kick and /ban; the
    # profile is filled in when the client sent none (as Synapse does).
    error(put_state(bob, room_id, "m.room.member", {"membership": "ban"}, alice.user_id),
          403, "M_FORBIDDEN")
    put_state_ok(alice, room_id, "m.room.member", {"membership": "invite"}, carol.user_id)
    assert state_map(alice, room_id)[("m.room.member", carol.user_id)]["content"] == {
        "membership": "invite", "displayname": "carol"}
    put_state_ok(alice, room_id, "m.room.member", {"membership": "ban"}, bob.user_id)
    error(put_state(bob, room_id, "m.room.member", {"membership": "join"}, bob.user_id),
          403, "M_FORBIDDEN")
    error(put_state(alice, room_id, "m.room.member", {"membership": "join"}, carol.user_id),
          403, "M_FORBIDDEN")


def test_create_event_cannot_be_replaced(register_user):
    alice = register_user("alice")
    for version in ("11", "12"):
        room_id = create_room(alice, room_version=version)
        error(put_state(alice, room_id, "m.room.create", {"room_version": version}),
              403, "M_FORBIDDEN")


def test_identical_state_answers_the_current_event(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    topic = {"topic": "same"}
    first = put_state_ok(alice, room_id, "m.room.topic", topic)
    # Same sender, same content: the current event's ID, no new event (Synapse behaviour).
    assert put_state_ok(alice, room_id, "m.room.topic", topic) == first
    assert state_map(alice, room_id)[("m.room.topic", "")]["event_id"] == first
    messages = ok(alice.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=50"))["chunk"]
    assert [e["event_id"] for e in messages if e["type"] == "m.room.topic"] == [first]
    # Another sender, or other content, makes a new event.
    power = state_map(alice, room_id)[("m.room.power_levels", "")]["content"]
    put_state_ok(alice, room_id, "m.room.power_levels",
                 {**power, "users": {**power["users"], bob.user_id: 100}})
    assert put_state_ok(bob, room_id, "m.room.topic", topic) != first
    # A repeat still needs permission: a member who may not set the topic is refused.
    carol = register_user("carol")
    ok(carol.post(f"{V3}/join/{q(room_id)}", json={}))
    error(put_state(carol, room_id, "m.room.topic", topic), 403, "M_FORBIDDEN")
    # Membership too: rejoining with the same content answers the current join.
    join_id = state_map(bob, room_id)[("m.room.member", bob.user_id)]["event_id"]
    content = state_map(bob, room_id)[("m.room.member", bob.user_id)]["content"]
    assert put_state_ok(bob, room_id, "m.room.member", content, bob.user_id) == join_id
