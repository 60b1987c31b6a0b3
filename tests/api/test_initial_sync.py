"""GET /initialSync (initialSync, deprecated: old_sync.yaml): joined rooms with their current
state, the latest ``limit`` messages and account data, invites with their invite event, left
rooms only with ``archived=true`` (as they were when left), presence naming its user in
``content``, global account data, read receipts, and an ``end`` token for GET /events."""

from urllib.parse import quote

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, invite, join, leave, put_state_ok, send_ok
from helpers.sync import event_ids


def initial_sync(user, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/initialSync?{query}")


def room_of(body, room_id):
    found = [room for room in body["rooms"] if room["room_id"] == room_id]
    assert len(found) == 1, body["rooms"]
    return found[0]


def test_joined_room_with_state_messages_and_account_data(alice):
    room = create_room(alice, name="Lobby")
    sent = [send_ok(alice, room, f"m{i}") for i in range(4)]
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/rooms/{q(room)}/tags/work", json={"order": 1}))
    body = ok(initial_sync(alice, limit=2))
    entry = room_of(body, room)
    assert entry["membership"] == "join"
    assert entry["visibility"] == "private"
    assert event_ids(entry["messages"]["chunk"]) == sent[-2:]
    assert all(event["room_id"] == room for event in entry["messages"]["chunk"])
    names = [e for e in entry["state"] if e["type"] == "m.room.name"]
    assert names[0]["content"] == {"name": "Lobby"} and names[0]["room_id"] == room
    tags = [e for e in entry["account_data"] if e["type"] == "m.tag"]
    assert tags[0]["content"]["tags"] == {"work": {"order": 1}}
    # The messages' tokens page through /messages.
    start = entry["messages"]["start"]
    earlier = ok(alice.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=2&from={quote(start)}"))
    assert event_ids(earlier["chunk"]) == sent[1::-1]


def test_end_token_streams_what_follows(alice):
    room = create_room(alice)
    end = ok(initial_sync(alice))["end"]
    sent = send_ok(alice, room, "after")
    body = ok(alice.get(f"{V3}/events?timeout=0&from={quote(end)}"))
    assert sent in event_ids(body["chunk"])


def test_invited_room_carries_the_invite(alice, bob):
    room = create_room(bob)
    invite(bob, room, alice)
    entry = room_of(ok(initial_sync(alice)), room)
    assert entry["membership"] == "invite"
    assert entry["invite"]["state_key"] == alice.user_id
    assert entry["invite"]["content"]["membership"] == "invite"


def test_left_rooms_only_when_archived_as_they_were(alice, bob):
    room = create_room(bob, preset="public_chat")
    join(alice, room)
    before = send_ok(bob, room, "before alice left")
    leave(alice, room)
    after = send_ok(bob, room, "after")
    put_state_ok(bob, room, "m.room.name", {"name": "later name"})
    assert room not in [r["room_id"] for r in ok(initial_sync(alice))["rooms"]]
    entry = room_of(ok(initial_sync(alice, archived="true")), room)
    assert entry["membership"] == "leave"
    ids = event_ids(entry["messages"]["chunk"])
    assert before in ids and after not in ids
    assert entry["messages"]["chunk"][-1]["content"]["membership"] == "leave"
    assert not [e for e in entry["state"] if e["type"] == "m.room.name"]


def test_presence_account_data_and_receipts(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(bob, room, "read me")
    ok(bob.post(f"{V3}/rooms/{q(room)}/receipt/m.read/{q(event_id)}", json={}))
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/account_data/org.example.setting",
                 json={"x": 1}))
    ok(bob.put(f"{V3}/presence/{q(bob.user_id)}/status", json={"presence": "online"}))
    body = ok(initial_sync(alice))
    presence = {e["content"]["user_id"]: e["content"] for e in body["presence"]}
    # Calling initialSync counts as being online, as GET /events does.
    assert presence[alice.user_id]["presence"] == "online"
    assert "last_active_ago" in presence[alice.user_id]
    assert presence[bob.user_id]["presence"] == "online"
    setting = [e for e in body["account_data"] if e["type"] == "org.example.setting"]
    assert setting[0]["content"] == {"x": 1}
    # The push rules a /sync computes into account data are not there (as in Synapse).
    assert [e["type"] for e in body["account_data"]] == ["org.example.setting"]
    receipts = [e for e in body["receipts"] if e["room_id"] == room]
    assert bob.user_id in receipts[0]["content"][event_id]["m.read"]


@pytest.mark.parametrize("params", [{"limit": "hello"}, {"limit": -1}, {"archived": "maybe"}])
def test_bad_params(alice, params):
    error(initial_sync(alice, **params), 400, "M_INVALID_PARAM")


def test_requires_auth(client):
    error(client.get(f"{V3}/initialSync"), 401, "M_MISSING_TOKEN")
