"""The searcher in its own user directory results: found only through a room open to all, as
in Synapse (SyTest 52user-directory/01public.pl: "User initially not in directory")."""

from helpers.rooms import create_room, invite, join, put_state_ok

PATH = "/_matrix/client/v3/user_directory/search"


def found(user, term):
    response = user.post(PATH, json={"search_term": term})
    assert response.status_code == 200, response.get_json()
    return [r["user_id"] for r in response.get_json()["results"]]


def test_searcher_is_not_found_through_a_private_room(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="private_chat")
    invite(alice, room, bob)
    join(bob, room)
    assert found(bob, "bob") == []
    assert found(alice, "bob") == [bob.user_id]


def test_searcher_is_found_through_a_public_room(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="private_chat")
    invite(alice, room, bob)
    join(bob, room)
    put_state_ok(alice, room, "m.room.join_rules", {"join_rule": "public"})
    assert found(bob, "bob") == [bob.user_id]
