"""GET /rooms/{roomId}/context/{eventId} and GET /v1/rooms/{roomId}/timestamp_to_event."""

import json
from urllib.parse import quote

import pytest

from helpers.api import V1, V3, ok
from helpers.rooms import create_room, join, put_state_ok, send_ok
from helpers.sync import event_ids, messages


def context(user, room, event_id, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/rooms/{quote(room)}/context/{quote(event_id)}?{query}")


def test_context_around_an_event(alice):
    room = create_room(alice, name="Context")
    sent = [send_ok(alice, room, f"m{i}") for i in range(9)]
    body = ok(context(alice, room, sent[4], limit=4))
    assert body["event"]["event_id"] == sent[4]
    assert body["event"]["room_id"] == room
    assert event_ids(body["events_before"]) == [sent[3], sent[2]]
    assert event_ids(body["events_after"]) == [sent[5], sent[6]]
    types = {(e["type"], e["state_key"]) for e in body["state"]}
    assert ("m.room.create", "") in types and ("m.room.name", "") in types
    # The tokens continue with /messages on both sides.
    back = ok(messages(alice, room, dir="b", **{"from": body["start"]}, limit=2))
    assert event_ids(back["chunk"]) == [sent[1], sent[0]]
    forward = ok(messages(alice, room, dir="f", **{"from": body["end"]}, limit=2))
    assert event_ids(forward["chunk"]) == [sent[7], sent[8]]


def test_limit_zero_still_returns_the_event(alice):
    room = create_room(alice)
    event_id = send_ok(alice, room)
    body = ok(context(alice, room, event_id, limit=0))
    assert body["event"]["event_id"] == event_id
    assert body["events_before"] == [] and body["events_after"] == []


def test_filter_applies_to_context_but_not_the_event(alice):
    room = create_room(alice)
    first = send_ok(alice, room, "a")
    middle = send_ok(alice, room, "b", event_type="org.example.other")
    last = send_ok(alice, room, "c")
    body = ok(context(alice, room, middle, limit=10,
                      filter=json.dumps({"types": ["m.room.message"]})))
    assert body["event"]["event_id"] == middle
    assert first in event_ids(body["events_before"])
    assert event_ids(body["events_after"]) == [last]
    assert all(e["type"] == "m.room.message" for e in body["events_before"])
    assert body["state"] == []


def test_lazy_loaded_members(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(bob, room, "hi")
    body = ok(context(alice, room, event_id, limit=0,
                      filter=json.dumps({"lazy_load_members": True})))
    assert {e["state_key"] for e in body["state"]} == {bob.user_id}


def test_state_is_at_the_last_event_returned(alice):
    room = create_room(alice, topic="first")
    event_id = send_ok(alice, room)
    send_ok(alice, room, "after")
    put_state_ok(alice, room, "m.room.topic", {"topic": "later"})
    body = ok(context(alice, room, event_id, limit=2))
    topic = [e for e in body["state"] if e["type"] == "m.room.topic"][0]
    assert topic["content"]["topic"] == "first"


def test_unknown_or_invisible_event_is_not_found(alice, bob):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    secret = send_ok(alice, room, "before bob")
    join(bob, room)
    for user, event_id in ((alice, "$nope"), (bob, secret)):
        response = context(user, room, event_id)
        assert response.status_code == 404
        assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_event_of_another_room_is_not_found(alice):
    room = create_room(alice)
    other = create_room(alice)
    event_id = send_ok(alice, other)
    assert context(alice, room, event_id).status_code == 404


def test_non_member_is_forbidden(alice, bob):
    room = create_room(alice)
    event_id = send_ok(alice, room)
    response = context(bob, room, event_id)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"


def test_bad_limit(alice):
    room = create_room(alice)
    event_id = send_ok(alice, room)
    response = context(alice, room, event_id, limit="many")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


# --- timestamp_to_event -------------------------------------------------------------------------

def timestamp_to_event(user, room, ts, direction):
    return user.get(f"{V1}/rooms/{quote(room)}/timestamp_to_event?ts={ts}&dir={direction}")


def origin_ts(user, room, event_id):
    return ok(user.get(f"{V3}/rooms/{quote(room)}/event/{quote(event_id)}"))["origin_server_ts"]


def test_timestamp_to_event_both_directions(alice, clock):
    room = create_room(alice)
    first = send_ok(alice, room, "first")
    clock.advance(10)
    second = send_ok(alice, room, "second")
    ts_first, ts_second = origin_ts(alice, room, first), origin_ts(alice, room, second)
    assert ts_first < ts_second
    forward = ok(timestamp_to_event(alice, room, ts_first + 1, "f"))
    assert forward == {"event_id": second, "origin_server_ts": ts_second}
    backward = ok(timestamp_to_event(alice, room, ts_second - 1, "b"))
    assert backward == {"event_id": first, "origin_server_ts": ts_first}
    exact = ok(timestamp_to_event(alice, room, ts_second, "b"))
    assert exact["event_id"] == second


def test_timestamp_to_event_not_found(alice):
    room = create_room(alice)
    send_ok(alice, room)
    response = timestamp_to_event(alice, room, 2**52, "f")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"
    assert timestamp_to_event(alice, room, 0, "b").status_code == 404


def test_timestamp_to_event_respects_visibility(alice, bob, clock):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    secret = send_ok(alice, room, "secret")
    clock.advance(10)
    join(bob, room)
    response = timestamp_to_event(bob, room, origin_ts(alice, room, secret), "b")
    assert response.status_code == 404 or response.get_json()["event_id"] != secret


@pytest.mark.parametrize("query,errcode", [
    ("dir=f", "M_MISSING_PARAM"), ("ts=5", "M_MISSING_PARAM"),
    ("ts=abc&dir=f", "M_INVALID_PARAM"), ("ts=5&dir=up", "M_INVALID_PARAM"),
])
def test_timestamp_to_event_bad_arguments(alice, query, errcode):
    room = create_room(alice)
    response = alice.get(f"{V1}/rooms/{quote(room)}/timestamp_to_event?{query}")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == errcode


def test_timestamp_to_event_non_member(alice, bob):
    room = create_room(alice)
    assert timestamp_to_event(bob, room, 0, "f").status_code == 403
