"""Sliding sync (MSC4186) bounds (config ``sliding_sync``): what one request or device may
cost."""

from urllib.parse import quote

import pytest

from sliding_sync_support import all_rooms, sss, sss_request
from sync_support import create_room

V3 = "/_matrix/client/v3"


@pytest.fixture
def app(make_app):
    return make_app(sliding_sync={"max_lists": 2, "max_required_state": 2,
                                  "max_room_subscriptions": 1, "max_timeline_limit": 3,
                                  "max_rooms_per_response": 2,
                                  "max_connections_per_device": 2})


@pytest.fixture
def alice(register_user):
    return register_user("alice")


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
