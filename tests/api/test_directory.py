"""The published room directory: /directory/list/room/{roomId} and GET/POST /publicRooms."""

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, join, put_state_ok


def publish(user, room_id, visibility="public"):
    return user.put(f"{V3}/directory/list/room/{q(room_id)}", json={"visibility": visibility})


def test_visibility_get_and_set(register_user, client):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    path = f"{V3}/directory/list/room/{q(room_id)}"
    assert ok(client.get(path)) == {"visibility": "private"}
    ok(publish(alice, room_id))
    assert ok(client.get(path)) == {"visibility": "public"}
    join(bob, room_id)
    error(publish(bob, room_id, "private"), 403, "M_FORBIDDEN")
    ok(publish(alice, room_id, "private"))
    assert ok(client.get(path)) == {"visibility": "private"}
    error(client.get(f"{V3}/directory/list/room/{q('!nope:localhost:8008')}"), 404,
          "M_NOT_FOUND")
    error(publish(alice, "!nope:localhost:8008"), 404, "M_NOT_FOUND")
    error(publish(alice, room_id, "secret"), 400, "M_BAD_JSON")
    ok(alice.put(path))  # visibility defaults to public
    assert ok(client.get(path)) == {"visibility": "public"}


def test_public_rooms_listing(register_user, client):
    alice = register_user("alice")
    bob = register_user("bob")
    big = create_room(alice, visibility="public", name="Big room", topic="Lots of people",
                      room_alias_name="big")
    join(bob, big)
    small = create_room(alice, visibility="public", creation_content={"type": "m.space"},
                        initial_state=[{"type": "m.room.history_visibility",
                                        "content": {"history_visibility": "world_readable"}},
                                       {"type": "m.room.avatar",
                                        "content": {"url": "mxc://localhost:8008/a"}}])
    create_room(alice, name="Hidden")
    body = ok(client.get(f"{V3}/publicRooms"))
    assert [c["room_id"] for c in body["chunk"]] == [big, small]
    assert body["total_room_count_estimate"] == 2
    assert body["chunk"][0] == {
        "room_id": big, "num_joined_members": 2, "world_readable": False,
        "guest_can_join": False, "join_rule": "public", "name": "Big room",
        "topic": "Lots of people", "canonical_alias": "#big:localhost:8008"}
    assert body["chunk"][1] == {
        "room_id": small, "num_joined_members": 1, "world_readable": True,
        "guest_can_join": False, "join_rule": "public", "room_type": "m.space",
        "avatar_url": "mxc://localhost:8008/a"}
    assert "next_batch" not in body and "prev_batch" not in body
    put_state_ok(alice, big, "m.room.topic", {"topic": "ignored",
                                              "m.topic": [{"body": "<b>x</b>",
                                                           "mimetype": "text/html"},
                                                          {"body": "plain"}]})
    assert ok(client.get(f"{V3}/publicRooms"))["chunk"][0]["topic"] == "plain"


def test_public_rooms_pagination(register_user, client):
    alice = register_user("alice")
    rooms = [create_room(alice, visibility="public") for _ in range(5)]
    first = ok(client.get(f"{V3}/publicRooms?limit=2"))
    assert len(first["chunk"]) == 2 and "prev_batch" not in first
    second = ok(client.get(f"{V3}/publicRooms?limit=2&since={first['next_batch']}"))
    third = ok(client.get(f"{V3}/publicRooms?limit=2&since={second['next_batch']}"))
    assert "next_batch" not in third and len(third["chunk"]) == 1
    seen = [c["room_id"] for page in (first, second, third) for c in page["chunk"]]
    assert sorted(seen) == sorted(rooms)
    back = ok(client.get(f"{V3}/publicRooms?limit=2&since={second['prev_batch']}"))
    assert back["chunk"] == first["chunk"]
    error(client.get(f"{V3}/publicRooms?since=garbage"), 400, "M_INVALID_PARAM")
    error(client.get(f"{V3}/publicRooms?limit=-1"), 400, "M_INVALID_PARAM")
    error(client.get(f"{V3}/publicRooms?server=elsewhere.example"), 400, "M_INVALID_PARAM")
    assert ok(client.get(f"{V3}/publicRooms?server=localhost:8008"))["chunk"]


def test_public_rooms_filter(register_user, client):
    alice = register_user("alice")
    cats = create_room(alice, visibility="public", name="Cat pictures")
    space = create_room(alice, visibility="public", topic="all about DOGS",
                        creation_content={"type": "m.space"})
    url = f"{V3}/publicRooms"
    error(client.post(url, json={}), 401, "M_MISSING_TOKEN")
    body = ok(alice.post(url, json={"filter": {"generic_search_term": "cat"}}))
    assert [c["room_id"] for c in body["chunk"]] == [cats]
    body = ok(alice.post(url, json={"filter": {"generic_search_term": "dogs"}}))
    assert [c["room_id"] for c in body["chunk"]] == [space]
    body = ok(alice.post(url, json={"filter": {"room_types": ["m.space"]}}))
    assert [c["room_id"] for c in body["chunk"]] == [space]
    body = ok(alice.post(url, json={"filter": {"room_types": [None]}}))
    assert [c["room_id"] for c in body["chunk"]] == [cats]
    body = ok(alice.post(url, json={"limit": 1}))
    assert len(body["chunk"]) == 1 and "next_batch" in body
    body = ok(alice.post(url, json={"third_party_instance_id": "irc"}))
    assert body["chunk"] == []
    ok(alice.post(url))  # no body: everything
    error(alice.post(url, json={"limit": "3"}), 400, "M_BAD_JSON")
