"""Attack: one sliding sync (MSC4186) request or device asks for unbounded work or rows: many
lists, huge required_state, timelines of thousands of events, a range over every room built at
once, a connection per request; or subscribes to rooms it may not read.

Bounds (config ``sliding_sync``): too many lists, ranges, subscriptions or required_state
entries answer M_INVALID_PARAM; timeline_limit is capped; a response builds at most
``max_rooms_per_response`` rooms (the rest follow); a device keeps at most
``max_connections_per_device`` connections (the least recently used goes).
"""

from urllib.parse import quote

import pytest

from helpers.sliding_sync import all_rooms, sss, sss_request
from helpers.rooms import create_room, join, leave, put_state_ok, send_ok

V3 = "/_matrix/client/v3"


@pytest.fixture
def app(make_app):
    return make_app(sliding_sync={"max_lists": 2, "max_required_state": 2,
                                  "max_room_subscriptions": 1, "max_timeline_limit": 3,
                                  "max_rooms_per_response": 2,
                                  "max_connections_per_device": 2})


def test_bounds_answer_invalid_param(alice):
    lists = {f"l{i}": {"ranges": [[0, 1]], "timeline_limit": 1} for i in range(3)}
    response = sss_request(alice, {"lists": lists})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"
    response = sss_request(alice, all_rooms(required_state=[("a", ""), ("b", ""), ("c", "")]))
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    response = sss_request(alice, {"room_subscriptions": {
        "!a:x": {"timeline_limit": 1}, "!b:x": {"timeline_limit": 1}}})
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    room = create_room(alice)
    for i in range(5):
        ok = alice.put(f"{V3}/rooms/{quote(room)}/send/m.room.message/b{i}",
                       json={"msgtype": "m.text", "body": str(i)})
        assert ok.status_code == 200
    entry = sss(alice, all_rooms(timeline_limit=50))["rooms"][room]
    assert len(entry["timeline"]) == 3


def test_responses_are_capped_and_the_rest_follows(alice):
    rooms = {create_room(alice) for _ in range(3)}
    first = sss(alice, all_rooms())
    assert len(first["rooms"]) == 2 and first["lists"]["all"]["count"] == 3
    second = sss(alice, all_rooms(), pos=first["pos"], timeout=10000)
    assert set(first["rooms"]) | set(second["rooms"]) == rooms


def test_connections_per_device_are_capped(alice):
    first = sss(alice, {**all_rooms(), "conn_id": "one"})
    sss(alice, {**all_rooms(), "conn_id": "two"})
    sss(alice, {**all_rooms(), "conn_id": "three"})
    response = sss_request(alice, {**all_rooms(), "conn_id": "one"}, pos=first["pos"])
    assert response.get_json()["errcode"] == "M_UNKNOWN_POS"


def test_subscription_shows_nothing_of_a_room_after_leaving_it(register_user, alice):
    bob = register_user("bob")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    send_ok(alice, room, "while bob is here")
    leave(bob, room)
    send_ok(alice, room, "after bob left")
    body = sss(bob, {"room_subscriptions": {room: {"timeline_limit": 3,
                                                   "required_state": [["*", "*"]]}}})
    timeline = body["rooms"][room]["timeline"]
    assert "after bob left" not in [e["content"].get("body") for e in timeline]
    assert timeline[-1]["content"]["membership"] == "leave"


def test_subscription_to_a_private_room_shows_nothing(register_user, alice):
    mallory = register_user("mallory")
    room = create_room(alice, preset="private_chat", name="secret")
    send_ok(alice, room, "secret")
    body = sss(mallory, {"room_subscriptions": {room: {"timeline_limit": 3,
                                                       "required_state": [["*", "*"]]}}})
    assert body["rooms"] == {}


def test_left_room_fields_are_those_at_the_leave(register_user, alice):
    bob, carol = register_user("bob"), register_user("carol")
    room = create_room(alice, preset="public_chat", name="old name")
    join(bob, room)
    leave(bob, room)
    put_state_ok(alice, room, "m.room.name", {"name": "renamed after bob left"})
    join(carol, room)
    entry = sss(bob, {"room_subscriptions": {room: {"timeline_limit": 1}}})["rooms"][room]
    assert entry["name"] == "old name"
    assert entry["joined_count"] == 1
