"""Room aliases: PUT/GET/DELETE /directory/room/{roomAlias}, GET /rooms/{roomId}/aliases."""

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, join, put_state_ok, room_with_members, state_map

ALIAS = "#home:localhost:8008"


def alias_path(alias=ALIAS):
    return f"{V3}/directory/room/{q(alias)}"


def test_create_resolve_delete(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    ok(alice.put(alias_path(), json={"room_id": room_id}))
    assert ok(alice.get(alias_path())) == {"room_id": room_id, "servers": ["localhost:8008"]}
    assert ok(alice.get(f"{V3}/rooms/{q(room_id)}/aliases")) == {"aliases": [ALIAS]}
    ok(alice.delete(alias_path()))
    error(alice.get(alias_path()), 404, "M_NOT_FOUND")
    error(alice.delete(alias_path()), 404, "M_NOT_FOUND")
    assert ok(alice.get(f"{V3}/rooms/{q(room_id)}/aliases")) == {"aliases": []}


def test_resolving_an_alias_needs_no_access_token(client, register_user):
    """Spec: GET /directory/room/{roomAlias} requires no authentication (a bad token is still
    refused, as everywhere a token is optional)."""
    alice = register_user("alice")
    room_id = create_room(alice)
    ok(alice.put(alias_path(), json={"room_id": room_id}))
    assert ok(client.get(alias_path())) == {"room_id": room_id, "servers": ["localhost:8008"]}
    error(client.get(alias_path("#missing:localhost:8008")), 404, "M_NOT_FOUND")
    error(client.get(alias_path(), headers={"Authorization": "Bearer nonsense"}),
          401, "M_UNKNOWN_TOKEN")


def test_alias_taken(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    other = create_room(alice)
    ok(alice.put(alias_path(), json={"room_id": room_id}))
    error(alice.put(alias_path(), json={"room_id": other}), 409, "M_ROOM_IN_USE")
    assert ok(alice.get(alias_path()))["room_id"] == room_id


def test_invalid_aliases(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    error(alice.put(alias_path("home"), json={"room_id": room_id}), 400, "M_INVALID_PARAM")
    error(alice.put(alias_path("#home:elsewhere.example"), json={"room_id": room_id}),
          400, "M_INVALID_PARAM")
    error(alice.put(alias_path("#ho me:localhost:8008"), json={"room_id": room_id}),
          400, "M_INVALID_PARAM")
    error(alice.get(alias_path("nonsense")), 400, "M_INVALID_PARAM")
    error(alice.put(alias_path(), json={}), 400, "M_BAD_JSON")
    error(alice.put(alias_path(), json={"room_id": "!nope:localhost:8008"}), 404, "M_NOT_FOUND")
    # Remote aliases cannot be resolved: this server does not federate.
    error(alice.get(alias_path("#x:elsewhere.example")), 404, "M_NOT_FOUND")


def test_only_members_create_aliases(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice)
    error(eve.put(alias_path(), json={"room_id": room_id}), 403, "M_FORBIDDEN")
    error(eve.get(f"{V3}/rooms/{q(room_id)}/aliases"), 403, "M_FORBIDDEN")


def test_who_may_delete(register_user):
    room_id, (alice, bob, carol) = room_with_members(register_user, "alice", "bob", "carol")
    ok(bob.put(alias_path(), json={"room_id": room_id}))
    error(carol.delete(alias_path()), 403, "M_FORBIDDEN")
    ok(bob.delete(alias_path()))  # its creator
    ok(bob.put(alias_path(), json={"room_id": room_id}))
    ok(alice.delete(alias_path()))  # a moderator of the room


def test_delete_updates_canonical_alias(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_alias_name="main")
    ok(alice.put(alias_path("#alt:localhost:8008"), json={"room_id": room_id}))
    put_state_ok(alice, room_id, "m.room.canonical_alias", {
        "alias": "#main:localhost:8008", "alt_aliases": ["#alt:localhost:8008"]})
    ok(alice.delete(alias_path("#alt:localhost:8008")))
    content = state_map(alice, room_id)[("m.room.canonical_alias", "")]["content"]
    assert content == {"alias": "#main:localhost:8008"}
    ok(alice.delete(alias_path("#main:localhost:8008")))
    assert state_map(alice, room_id)[("m.room.canonical_alias", "")]["content"] == {}


def test_alias_join_after_move(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    first = create_room(alice, preset="public_chat")
    second = create_room(alice, preset="public_chat")
    ok(alice.put(alias_path(), json={"room_id": first}))
    ok(alice.delete(alias_path()))
    ok(alice.put(alias_path(), json={"room_id": second}))
    assert join(bob, ALIAS) == second
