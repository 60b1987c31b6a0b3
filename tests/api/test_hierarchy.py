"""GET /v1/rooms/{roomId}/hierarchy (spec module "Spaces"): depth-first walk of m.space.child
events, child order, what a user may see, suggested_only, max_depth, pagination, loops."""

from helpers.api import error, ok, q
from helpers.rooms import create_room, invite, join, put_state_ok

V1 = "/_matrix/client/v1"
SERVER = "localhost:8008"


def space(user, name, **body):
    body.setdefault("preset", "public_chat")
    return create_room(user, name=name, creation_content={"type": "m.space"}, **body)


def add_child(user, parent, child, **content):
    content.setdefault("via", [SERVER])
    return put_state_ok(user, parent, "m.space.child", content, state_key=child)


def hierarchy(user, room, **params):
    url = f"{V1}/rooms/{q(room)}/hierarchy"
    if params:
        url += "?" + "&".join(f"{k}={q(str(v))}" for k, v in params.items())
    return user.get(url)


def room_ids(body):
    return [room["room_id"] for room in body["rooms"]]


def test_depth_first_walk_with_summaries(alice, clock):
    root = space(alice, "Root space", topic="All the things")
    sub = space(alice, "Sub space")
    general = create_room(alice, name="General", preset="public_chat")
    deep = create_room(alice, name="Deep", preset="public_chat")
    later = create_room(alice, name="Later", preset="public_chat")
    add_child(alice, root, sub, order="a")
    add_child(alice, root, later, order="b")
    add_child(alice, sub, general)
    # Children without an order come by timestamp (then room ID): general's is earlier.
    clock.advance(10)
    add_child(alice, sub, deep)
    body = ok(hierarchy(alice, root))
    assert room_ids(body) == [root, sub, general, deep, later]
    assert "next_batch" not in body
    first = body["rooms"][0]
    assert first["name"] == "Root space" and first["topic"] == "All the things"
    assert first["room_type"] == "m.space"
    assert first["num_joined_members"] == 1
    assert first["join_rule"] == "public"
    assert first["world_readable"] is False and first["guest_can_join"] is False
    assert first["room_version"]
    children = first["children_state"]
    assert [c["state_key"] for c in children] == [sub, later]
    assert set(children[0]) == {"type", "state_key", "content", "sender", "origin_server_ts"}
    assert children[0]["content"] == {"via": [SERVER], "order": "a"}
    # Rooms that are not spaces have no children_state entries.
    by_id = {room["room_id"]: room for room in body["rooms"]}
    assert by_id[general]["children_state"] == []
    assert "room_type" not in by_id[general]


def test_child_order(alice, clock):
    root = space(alice, "Root")
    rooms = {name: create_room(alice, preset="public_chat") for name in "abcde"}
    # Set in this order, so their timestamps increase: e before d.
    add_child(alice, root, rooms["e"])
    clock.advance(10)
    add_child(alice, root, rooms["d"])
    add_child(alice, root, rooms["c"], order="first")
    add_child(alice, root, rooms["a"], order="aaaa")
    add_child(alice, root, rooms["b"], order=" ")
    body = ok(hierarchy(alice, root))
    assert room_ids(body)[1:] == [rooms[n] for n in "baced"]
    # An order with characters outside \x20-\x7e (or not a string) does not count.
    clock.advance(10)
    add_child(alice, root, rooms["a"], order="\u00e9")
    assert room_ids(ok(hierarchy(alice, root)))[1:] == [rooms[n] for n in "bceda"]


def test_removed_children_are_ignored(alice):
    root = space(alice, "Root")
    child = create_room(alice, preset="public_chat")
    add_child(alice, root, child)
    put_state_ok(alice, root, "m.space.child", {}, state_key=child)
    put_state_ok(alice, root, "m.space.child", {"via": []}, state_key="!gone:" + SERVER)
    body = ok(hierarchy(alice, root))
    assert room_ids(body) == [root]
    assert body["rooms"][0]["children_state"] == []


def test_only_rooms_the_user_may_see(alice, bob):
    root = space(alice, "Root")
    public = create_room(alice, preset="public_chat")
    private = create_room(alice, preset="private_chat")
    invited = create_room(alice, preset="private_chat")
    readable = create_room(alice, preset="private_chat")
    put_state_ok(alice, readable, "m.room.history_visibility",
                 {"history_visibility": "world_readable"})
    knockable = create_room(alice, preset="private_chat", room_version="10")
    put_state_ok(alice, knockable, "m.room.join_rules", {"join_rule": "knock"})
    restricted = create_room(alice, preset="private_chat", room_version="10")
    put_state_ok(alice, restricted, "m.room.join_rules", {
        "join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": root}]})
    unknown = "!unknown:" + SERVER
    for child in (public, private, invited, readable, knockable, restricted, unknown):
        add_child(alice, root, child)
    invite(alice, invited, bob)
    expected_for_bob = {root, public, invited, readable, knockable}
    assert set(room_ids(ok(hierarchy(bob, root)))) == expected_for_bob
    join(bob, root)
    body = ok(hierarchy(bob, root))
    assert set(room_ids(body)) == expected_for_bob | {restricted}
    entry = next(room for room in body["rooms"] if room["room_id"] == restricted)
    assert entry["allowed_room_ids"] == [root]
    # The space's own children_state still lists every child.
    assert len(body["rooms"][0]["children_state"]) == 7
    assert set(room_ids(ok(hierarchy(alice, root)))) == expected_for_bob | {restricted, private}


def test_root_the_user_cannot_see_is_forbidden(alice, bob):
    private_space = space(alice, "Private", preset="private_chat")
    error(hierarchy(bob, private_space), 403, "M_FORBIDDEN")
    error(hierarchy(bob, "!nowhere:" + SERVER), 403, "M_FORBIDDEN")
    assert bob.client.get(f"{V1}/rooms/{q(private_space)}/hierarchy").status_code == 401


def test_encryption_shown(alice):
    root = space(alice, "Root")
    secret = create_room(alice, preset="public_chat", initial_state=[
        {"type": "m.room.encryption", "state_key": "", "content": {
            "algorithm": "m.megolm.v1.aes-sha2"}}])
    add_child(alice, root, secret)
    body = ok(hierarchy(alice, root))
    assert body["rooms"][1]["encryption"] == "m.megolm.v1.aes-sha2"
    assert "encryption" not in body["rooms"][0]


def test_suggested_only_and_max_depth(alice):
    root = space(alice, "Root")
    sub = space(alice, "Sub")
    suggested = create_room(alice, preset="public_chat")
    other = create_room(alice, preset="public_chat")
    grandchild = create_room(alice, preset="public_chat")
    add_child(alice, root, sub, suggested=True)
    add_child(alice, root, suggested, suggested=True)
    add_child(alice, root, other)
    add_child(alice, sub, grandchild)
    assert room_ids(ok(hierarchy(alice, root, suggested_only="true"))) == [root, sub, suggested]
    assert room_ids(ok(hierarchy(alice, root, max_depth=0))) == [root]
    depth1 = ok(hierarchy(alice, root, max_depth=1))
    assert room_ids(depth1) == [root, sub, suggested, other]
    # The space at the depth limit still shows its children_state.
    assert [c["state_key"] for c in depth1["rooms"][1]["children_state"]] == [grandchild]
    assert room_ids(ok(hierarchy(alice, root)))[:3] == [root, sub, grandchild]


def test_pagination(alice, bob):
    root = space(alice, "Root")
    children = [create_room(alice, preset="public_chat") for _ in range(5)]
    for index, child in enumerate(children):
        add_child(alice, root, child, order=f"{index}")
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if token:
            params["from"] = token
        body = ok(hierarchy(alice, root, **params))
        pages += 1
        seen += room_ids(body)
        token = body.get("next_batch")
        if token is None:
            break
    assert seen == [root, *children]
    assert pages == 3
    first = ok(hierarchy(alice, root, limit=1))
    error(hierarchy(alice, root, limit=1, suggested_only="true", **{"from": first["next_batch"]}),
          400, "M_INVALID_PARAM")
    error(hierarchy(alice, root, limit=1, max_depth=3, **{"from": first["next_batch"]}),
          400, "M_INVALID_PARAM")
    error(hierarchy(alice, root, **{"from": "bogus"}), 400, "M_INVALID_PARAM")
    # A token is the user's own.
    join(bob, root)
    error(hierarchy(bob, root, limit=1, **{"from": first["next_batch"]}), 400, "M_INVALID_PARAM")


def test_loops_are_broken(alice):
    one = space(alice, "One")
    two = space(alice, "Two")
    add_child(alice, one, two)
    add_child(alice, two, one)
    add_child(alice, one, one)
    assert room_ids(ok(hierarchy(alice, one))) == [one, two]


def test_bad_arguments(alice):
    root = space(alice, "Root")
    error(hierarchy(alice, root, limit=0), 400, "M_INVALID_PARAM")
    error(hierarchy(alice, root, max_depth=-1), 400, "M_INVALID_PARAM")
    error(hierarchy(alice, root, suggested_only="yes"), 400, "M_INVALID_PARAM")
