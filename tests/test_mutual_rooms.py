"""GET /v1/mutual_rooms: rooms both users are joined to, counted and paged."""

from urllib.parse import quote

from homeserver.services.users import mutual_rooms

from rooms_support import create_room, error, invite, join, leave, ok, room_with_members

URL = "/_matrix/client/v1/mutual_rooms"


def mutual(user, other, **params):
    query = f"?user_id={quote(other if isinstance(other, str) else other.user_id)}"
    query += "".join(f"&{k}={quote(v)}" for k, v in params.items())
    return user.get(URL + query)


def test_only_rooms_both_are_joined_to(register_user):
    shared, (alice, bob) = room_with_members(register_user, "alice", "bob")
    carol = register_user("carol")
    create_room(alice)  # alice alone
    invited = create_room(alice)
    invite(alice, invited, bob)  # an invite is not a join
    left = create_room(alice, preset="public_chat")
    join(bob, left)
    leave(bob, left)
    other = create_room(carol, preset="public_chat")
    join(bob, other)  # bob and carol, not alice

    body = ok(mutual(alice, bob))
    assert body == {"joined": [shared], "count": 1}
    assert ok(mutual(bob, alice))["joined"] == [shared]
    assert ok(mutual(alice, carol)) == {"joined": [], "count": 0}


def test_unknown_user_has_no_mutual_rooms(register_user):
    alice = register_user("alice")
    create_room(alice)
    assert ok(mutual(alice, "@nobody:localhost:8008")) == {"joined": [], "count": 0}
    assert ok(mutual(alice, "@someone:elsewhere.org")) == {"joined": [], "count": 0}


def test_invalid_requests(register_user):
    alice = register_user("alice")
    error(alice.get(URL), 400, "M_MISSING_PARAM")
    error(mutual(alice, alice), 400, "M_INVALID_PARAM")
    for bad in ("alice", "@:localhost:8008", "@alice", "@al:ice:not a server"):
        error(mutual(alice, bad), 400, "M_INVALID_PARAM")
    for token in ("garbage", "mr1.!!!", "mr1.YWJj"):
        error(mutual(alice, "@bob:localhost:8008", **{"from": token}), 400, "M_INVALID_PARAM")
    response = alice.client.get(URL + "?user_id=%40bob%3Alocalhost%3A8008")
    error(response, 401, "M_MISSING_TOKEN")


def test_pagination(register_user, monkeypatch):
    monkeypatch.setattr(mutual_rooms, "PAGE_SIZE", 2)
    alice, bob = register_user("alice"), register_user("bob")
    rooms = []
    for _ in range(5):
        room_id = create_room(alice, preset="public_chat")
        join(bob, room_id)
        rooms.append(room_id)

    seen, token, pages = [], None, 0
    while True:
        body = ok(mutual(alice, bob, **({"from": token} if token else {})))
        assert body["count"] == 5
        assert len(body["joined"]) <= 2
        seen += body["joined"]
        pages += 1
        token = body.get("next_batch")
        if token is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(rooms) and len(seen) == len(set(seen))
