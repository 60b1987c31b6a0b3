"""GET /rooms/{roomId}/initialSync (roomInitialSync): a member's snapshot, a departed member's
view as of when they left, a world_readable room for anyone, 403 for other outsiders, tokens
usable with /messages, room account data and tags, bad parameters."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, join, leave, put_state_ok, send_ok
from helpers.sync import event_ids, messages


def initial_sync(user, room_id, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/rooms/{quote(room_id)}/initialSync?{query}")


def state_content(body, event_type, state_key=""):
    for event in body["state"]:
        if event["type"] == event_type and event["state_key"] == state_key:
            return event["content"]
    return None


def test_member_gets_room_snapshot(alice, bob):
    room = create_room(alice, preset="public_chat", visibility="public")
    join(bob, room)
    sent = [send_ok(alice, room, f"m{i}") for i in range(3)]
    body = ok(initial_sync(bob, room, limit=2))
    assert body["room_id"] == room
    assert body["membership"] == "join"
    assert body["visibility"] == "public"
    # The latest events, oldest first (as Synapse).
    assert event_ids(body["messages"]["chunk"]) == sent[1:]
    assert all(event["room_id"] == room for event in body["messages"]["chunk"])
    assert state_content(body, "m.room.member", bob.user_id)["membership"] == "join"
    assert state_content(body, "m.room.create") is not None
    assert isinstance(body["presence"], list)
    assert isinstance(body["receipts"], list)
    assert body["account_data"] == []


def test_default_limit_is_ten(alice):
    room = create_room(alice)
    for i in range(15):
        send_ok(alice, room, f"m{i}")
    body = ok(initial_sync(alice, room))
    assert len(body["messages"]["chunk"]) == 10
    assert ok(initial_sync(alice, room, limit=0))["messages"]["chunk"] == []


def test_tokens_page_with_messages(alice):
    room = create_room(alice)
    sent = [send_ok(alice, room, f"m{i}") for i in range(6)]
    body = ok(initial_sync(alice, room, limit=3))
    assert event_ids(body["messages"]["chunk"]) == sent[3:]
    earlier = ok(messages(alice, room, dir="b", limit=3, **{"from": body["messages"]["start"]}))
    assert event_ids(earlier["chunk"]) == list(reversed(sent[:3]))
    later = send_ok(alice, room, "after")
    newer = ok(messages(alice, room, dir="f", **{"from": body["messages"]["end"]}))
    assert event_ids(newer["chunk"]) == [later]


def test_receipts_and_presence_of_members(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(alice, room, "read me")
    ok(bob.post(f"{V3}/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", json={}))
    ok(bob.put(f"{V3}/presence/{quote(bob.user_id)}/status",
               json={"presence": "online", "status_msg": "here"}))
    body = ok(initial_sync(alice, room))
    assert body["receipts"][0]["type"] == "m.receipt"
    assert bob.user_id in body["receipts"][0]["content"][event_id]["m.read"]
    presence = {event["sender"]: event for event in body["presence"]}
    assert set(presence) == {alice.user_id, bob.user_id}
    assert presence[bob.user_id]["type"] == "m.presence"
    assert presence[bob.user_id]["content"]["presence"] == "online"
    assert presence[bob.user_id]["content"]["status_msg"] == "here"
    # The v1 shape names the user in content too (as Synapse; /sync has only the sender).
    assert presence[bob.user_id]["content"]["user_id"] == bob.user_id


def test_room_account_data_and_tags(alice):
    room = create_room(alice)
    base = f"{V3}/user/{quote(alice.user_id)}/rooms/{quote(room)}"
    ok(alice.put(f"{base}/account_data/my.test.type", json={"cat": "rats"}))
    ok(alice.put(f"{base}/tags/u.work", json={"order": 0.5}))
    body = ok(initial_sync(alice, room))
    by_type = {event["type"]: event["content"] for event in body["account_data"]}
    assert by_type["my.test.type"] == {"cat": "rats"}
    assert by_type["m.tag"] == {"tags": {"u.work": {"order": 0.5}}}


def test_departed_member_sees_room_as_they_left_it(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    put_state_ok(alice, room, "madeup.test.state", {"body": "before"})
    before = send_ok(alice, room, "M2 before")
    leave(bob, room)
    send_ok(alice, room, "after")
    put_state_ok(alice, room, "madeup.test.state", {"body": "after"})
    body = ok(initial_sync(bob, room, limit=2))
    assert body["membership"] == "leave"
    assert state_content(body, "madeup.test.state") == {"body": "before"}
    chunk = body["messages"]["chunk"]
    assert chunk[0]["event_id"] == before
    assert chunk[-1]["type"] == "m.room.member" and chunk[-1]["state_key"] == bob.user_id
    assert all(event["content"].get("body") != "after" for event in chunk)
    assert body["presence"] == [] and body["receipts"] == []


def test_world_readable_room_for_an_outsider(alice, eve):
    room = create_room(alice)
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "world_readable"})
    sent = send_ok(alice, room, "public words")
    body = ok(initial_sync(eve, room))
    assert "membership" not in body
    assert event_ids(body["messages"]["chunk"])[-1] == sent
    assert state_content(body, "m.room.member", alice.user_id)["membership"] == "join"
    assert body["visibility"] == "private"
    assert body["presence"] == []


def test_outsider_of_a_private_room_is_forbidden(alice, eve):
    room = create_room(alice)
    send_ok(alice, room, "secret")
    response = initial_sync(eve, room)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    missing = initial_sync(eve, "!nowhere:localhost:8008")
    assert missing.status_code == 403


def test_invited_user_of_a_private_room_is_forbidden(alice, eve):
    room = create_room(alice)
    ok(alice.post(f"{V3}/rooms/{quote(room)}/invite", json={"user_id": eve.user_id}))
    assert initial_sync(eve, room).status_code == 403


@pytest.mark.parametrize("limit", ["-1", "ten", "1.5"])
def test_bad_limit(alice, limit):
    room = create_room(alice)
    response = initial_sync(alice, room, limit=limit)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


def test_requires_auth(client):
    response = client.get(f"{V3}/rooms/{quote('!r:localhost:8008')}/initialSync")
    assert response.status_code == 401
