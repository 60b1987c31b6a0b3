"""POST /_matrix/client/v3/user_directory/search (spec: User Directory)."""

import pytest

from homeserver.models.users import User
from helpers.rooms import create_room, invite, join, leave, put_state_ok

PATH = "/_matrix/client/v3/user_directory/search"


def search(user, term, **extra):
    response = user.post(PATH, json={"search_term": term, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def found(user, term, **extra):
    return [r["user_id"] for r in search(user, term, **extra)["results"]]


@pytest.fixture
def people(register_user):
    return {name: register_user(name) for name in ("alice", "bob", "carol", "dave")}


def test_needs_a_token(client):
    response = client.post(PATH, json={"search_term": "a"})
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_strangers_are_not_found(people):
    assert found(people["alice"], "bob") == []


def test_users_sharing_a_private_room_are_found(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    room = create_room(alice, preset="private_chat")
    invite(alice, room, bob)
    # An invitation is not membership yet.
    assert found(alice, "bob") == []
    join(bob, room)
    assert found(alice, "bob") == [bob.user_id]
    assert found(bob, "alice") == [alice.user_id]
    # Carol shares nothing with them and the room is private.
    assert found(carol, "alice") == []
    leave(bob, room)
    assert found(alice, "bob") == []


def test_members_of_public_rooms_are_found_by_anyone(people):
    alice, bob, dave = people["alice"], people["bob"], people["dave"]
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    assert sorted(found(dave, "b")) == [bob.user_id]
    assert alice.user_id in found(dave, "alice")


def test_members_of_world_readable_rooms_are_found(people):
    alice, dave = people["alice"], people["dave"]
    room = create_room(alice, preset="private_chat")
    assert found(dave, "alice") == []
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "world_readable"})
    assert found(dave, "alice") == [alice.user_id]


def test_matches_display_name_and_user_id_case_insensitively(people):
    alice, bob = people["alice"], people["bob"]
    create_room(alice, preset="public_chat")
    assert alice.put(f"/_matrix/client/v3/profile/{alice.user_id}/displayname",
                     json={"displayname": "Wonderland Explorer"}).status_code == 200
    avatar = "mxc://localhost:8008/abc"
    assert alice.put(f"/_matrix/client/v3/profile/{alice.user_id}/avatar_url",
                     json={"avatar_url": avatar}).status_code == 200
    expected = [{"user_id": alice.user_id, "display_name": "Wonderland Explorer",
                 "avatar_url": avatar}]
    assert search(bob, "WONDER")["results"] == expected
    assert search(bob, "explorer wonder")["results"] == expected
    assert search(bob, "ALICE")["results"] == expected
    assert search(bob, "localhost:8008")["results"] == expected
    assert search(bob, "wonder nothere")["results"] == []


def test_like_wildcards_are_literal(people):
    alice, bob = people["alice"], people["bob"]
    create_room(alice, preset="public_chat")
    for term in ("%", "_", "a%e", "!"):
        assert found(bob, term) == [], term


def test_limit_and_limited(register_user):
    owner = register_user("owner")
    room = create_room(owner, preset="public_chat")
    for n in range(5):
        join(register_user(f"member{n}"), room)
    everyone = search(owner, "member")
    assert len(everyone["results"]) == 5 and everyone["limited"] is False
    two = search(owner, "member", limit=2)
    assert len(two["results"]) == 2 and two["limited"] is True
    assert search(owner, "member", limit=0) == {"results": [], "limited": True}


def test_closer_matches_rank_first(register_user):
    owner = register_user("owner")
    room = create_room(owner, preset="public_chat")
    for name in ("xbob", "bobby", "bob"):
        join(register_user(name), room)
    assert found(owner, "bob") == ["@bob:localhost:8008", "@bobby:localhost:8008",
                                   "@xbob:localhost:8008"]


def test_deactivated_users_are_not_found(people):
    alice, bob = people["alice"], people["bob"]
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    User.update(deactivated=True).where(User.user_id == bob.user_id).execute()
    assert found(alice, "bob") == []


def test_empty_term_finds_nobody(people):
    alice = people["alice"]
    create_room(alice, preset="public_chat")
    assert search(alice, "   ") == {"results": [], "limited": False}


@pytest.mark.parametrize("body, errcode", [
    ({}, "M_MISSING_PARAM"),
    ({"search_term": 1}, "M_BAD_JSON"),
    ({"search_term": "a", "limit": "10"}, "M_BAD_JSON"),
    ({"search_term": "a", "limit": -1}, "M_BAD_JSON"),
])
def test_bad_bodies(people, body, errcode):
    response = people["alice"].post(PATH, json=body)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == errcode
