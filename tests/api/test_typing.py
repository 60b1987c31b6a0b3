"""Typing notifications: PUT /rooms/{roomId}/typing/{userId}, delivered as m.typing in the
room's ephemeral events, stopped explicitly or by their timeout."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.sync import sync


def typing_path(room_id, user):
    return f"{V3}/rooms/{quote(room_id)}/typing/{quote(user.user_id)}"


def typing_events(body, room_id):
    entry = body["rooms"]["join"].get(room_id, {})
    return [e for e in entry.get("ephemeral", {}).get("events", []) if e["type"] == "m.typing"]


def test_typing_is_delivered_and_stops(room):
    room_id, alice, bob = room
    first = sync(bob)
    assert typing_events(first, room_id) == []
    ok(alice.put(typing_path(room_id, alice), json={"typing": True, "timeout": 30000}))
    body = sync(bob, since=first["next_batch"])
    assert typing_events(body, room_id) == [
        {"type": "m.typing", "content": {"user_ids": [alice.user_id]}}]
    # An initial sync shows who types now.
    assert typing_events(sync(bob), room_id)[0]["content"]["user_ids"] == [alice.user_id]
    ok(bob.put(typing_path(room_id, bob), json={"typing": True, "timeout": 30000}))
    body = sync(bob, since=body["next_batch"])
    assert set(typing_events(body, room_id)[0]["content"]["user_ids"]) == {
        alice.user_id, bob.user_id}
    ok(alice.put(typing_path(room_id, alice), json={"typing": False}))
    body = sync(bob, since=body["next_batch"])
    assert typing_events(body, room_id)[0]["content"]["user_ids"] == [bob.user_id]


def test_refreshing_typing_is_not_news(room):
    room_id, alice, bob = room
    ok(alice.put(typing_path(room_id, alice), json={"typing": True, "timeout": 30000}))
    first = sync(bob)
    ok(alice.put(typing_path(room_id, alice), json={"typing": True, "timeout": 30000}))
    body = sync(bob, since=first["next_batch"])
    assert typing_events(body, room_id) == []


def test_typing_expires(room, clock):
    room_id, alice, bob = room
    ok(alice.put(typing_path(room_id, alice), json={"typing": True, "timeout": 5000}))
    first = sync(bob)
    assert typing_events(first, room_id)[0]["content"]["user_ids"] == [alice.user_id]
    clock.advance(6000)
    assert typing_events(sync(bob), room_id) == []
    # The expiry reaches a waiting incremental sync (the expiry sweep takes a position).
    body = sync(bob, since=first["next_batch"], timeout=30000)
    assert typing_events(body, room_id) == [{"type": "m.typing", "content": {"user_ids": []}}]


def test_only_yourself_and_only_joined_rooms(room, register_user):
    room_id, alice, bob = room
    response = bob.put(typing_path(room_id, alice), json={"typing": True, "timeout": 1000})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    carol = register_user("carol")
    response = carol.put(typing_path(room_id, carol), json={"typing": True, "timeout": 1000})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    assert typing_events(sync(bob), room_id) == []


@pytest.mark.parametrize("body", [{}, {"typing": "yes"}, {"typing": True, "timeout": "30"},
                                  {"typing": True, "timeout": -1}])
def test_bad_bodies(room, body):
    room_id, alice, bob = room
    response = alice.put(typing_path(room_id, alice), json=body)
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"


def test_ephemeral_filter(room):
    room_id, alice, bob = room
    ok(alice.put(typing_path(room_id, alice), json={"typing": True, "timeout": 30000}))
    body = sync(bob, filter={"room": {"ephemeral": {"not_types": ["m.typing"]}}})
    assert typing_events(body, room_id) == []
