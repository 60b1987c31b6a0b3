"""GET /notifications: events the user was notified about, newest first, with read flags,
only=highlight and pagination."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, invite, send_ok

PATH = f"{V3}/notifications"


def test_lists_notifications_newest_first(room):
    room_id, alice, bob = room
    first = send_ok(alice, room_id, "one")
    mention = send_ok(alice, room_id, "two", **{"m.mentions": {"user_ids": [bob.user_id]}})
    body = ok(bob.get(PATH))
    assert [n["event"]["event_id"] for n in body["notifications"]] == [mention, first]
    newest = body["notifications"][0]
    assert newest["room_id"] == room_id and newest["read"] is False
    assert isinstance(newest["ts"], int)
    assert "notify" in newest["actions"]
    assert {"set_tweak": "highlight"} in newest["actions"]
    assert newest["event"]["content"]["body"] == "two"
    assert newest["event"]["sender"] == alice.user_id
    assert "room_id" not in newest["event"]
    assert "next_token" not in body
    # Alice sent them: nothing for her.
    assert ok(alice.get(PATH))["notifications"] == []


def test_read_flag_follows_receipts(room):
    room_id, alice, bob = room
    first = send_ok(alice, room_id, "one")
    second = send_ok(alice, room_id, "two")
    ok(bob.post(f"{V3}/rooms/{quote(room_id)}/receipt/m.read/{quote(first)}", json={}))
    read = {n["event"]["event_id"]: n["read"] for n in ok(bob.get(PATH))["notifications"]}
    assert read == {first: True, second: False}


def test_only_highlight(room):
    room_id, alice, bob = room
    send_ok(alice, room_id, "plain")
    mention = send_ok(alice, room_id, "hey", **{"m.mentions": {"user_ids": [bob.user_id]}})
    body = ok(bob.get(f"{PATH}?only=highlight"))
    assert [n["event"]["event_id"] for n in body["notifications"]] == [mention]


def test_pagination(room):
    room_id, alice, bob = room
    sent = [send_ok(alice, room_id, f"m{i}") for i in range(5)]
    page = ok(bob.get(f"{PATH}?limit=2"))
    seen = [n["event"]["event_id"] for n in page["notifications"]]
    while "next_token" in page:
        page = ok(bob.get(f"{PATH}?limit=2&from={quote(page['next_token'])}"))
        seen += [n["event"]["event_id"] for n in page["notifications"]]
    assert seen == list(reversed(sent))


def test_invites_notify(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice)
    invite(alice, room_id, bob)
    notifications = ok(bob.get(PATH))["notifications"]
    assert len(notifications) == 1
    event = notifications[0]["event"]
    assert event["type"] == "m.room.member" and event["state_key"] == bob.user_id
    assert notifications[0]["room_id"] == room_id


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "from=notatoken"])
def test_bad_arguments(room, query):
    room_id, alice, bob = room
    response = bob.get(f"{PATH}?{query}")
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"
