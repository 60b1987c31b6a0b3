"""GET /events?room_id= (peekEvents, module Room Previews): the event stream of one
world_readable room for a user not in it; tokens from room initialSync; long-polls woken by
the notifier; 403 for rooms they may not read (getEvents, without room_id: test_event_stream.py)."""

import threading
from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, join, put_state_ok, send_ok
from helpers.sync import event_ids, messages


def peek(user, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/events?{query}")


def world_readable_room(user) -> str:
    room = create_room(user)
    put_state_ok(user, room, "m.room.history_visibility", {"history_visibility": "world_readable"})
    return room


def initial_end(user, room) -> str:
    return ok(user.get(f"{V3}/rooms/{quote(room)}/initialSync"))["messages"]["end"]


def test_outsider_reads_new_events_from_initial_sync_token(alice, eve):
    room = world_readable_room(alice)
    token = initial_end(eve, room)
    sent = [send_ok(alice, room, f"m{i}") for i in range(3)]
    body = ok(peek(eve, room_id=room, timeout=0, **{"from": token}))
    assert event_ids(body["chunk"]) == sent
    assert body["start"] == token
    assert all(event["room_id"] == room for event in body["chunk"])
    # Nothing new since "end": an empty chunk and the same position.
    again = ok(peek(eve, room_id=room, timeout=0, **{"from": body["end"]}))
    assert again["chunk"] == []
    later = send_ok(alice, room, "later")
    assert event_ids(ok(peek(eve, room_id=room, timeout=0, **{"from": again["end"]}))["chunk"]) \
        == [later]


def test_tokens_work_with_messages(alice, eve):
    room = world_readable_room(alice)
    token = initial_end(eve, room)
    sent = send_ok(alice, room, "m")
    body = ok(peek(eve, room_id=room, timeout=0, **{"from": token}))
    back = ok(messages(eve, room, dir="b", limit=1, **{"from": body["end"]}))
    assert event_ids(back["chunk"]) == [sent]


def test_without_from_starts_now(alice, eve):
    room = world_readable_room(alice)
    send_ok(alice, room, "old")
    body = ok(peek(eve, room_id=room, timeout=0))
    assert body["chunk"] == []
    new = send_ok(alice, room, "new")
    assert event_ids(ok(peek(eve, room_id=room, timeout=0, **{"from": body["end"]}))["chunk"]) \
        == [new]


def test_long_poll_wakes_on_a_new_event(alice, eve, app):
    room = world_readable_room(alice)
    token = initial_end(eve, room)
    client = app.test_client()
    result = {}

    def wait():
        result["body"] = client.get(
            f"{V3}/events?room_id={quote(room)}&from={quote(token)}&timeout=60000",
            headers=eve.headers).get_json()

    waiter = threading.Thread(target=wait)
    waiter.start()
    sent = send_ok(alice, room, "wake up")
    waiter.join(120)
    assert not waiter.is_alive()
    assert event_ids(result["body"]["chunk"]) == [sent]


def test_long_poll_times_out_empty(alice, eve):
    room = world_readable_room(alice)
    token = initial_end(eve, room)
    body = ok(peek(eve, room_id=room, timeout=1, **{"from": token}))
    assert body["chunk"] == []
    assert body["start"] == token


def test_member_may_call_it(alice):
    room = create_room(alice)
    token = initial_end(alice, room)
    sent = send_ok(alice, room, "mine")
    assert event_ids(ok(peek(alice, room_id=room, timeout=0, **{"from": token}))["chunk"]) \
        == [sent]


def test_outsider_of_a_private_room_is_forbidden(alice, eve):
    room = create_room(alice, preset="public_chat")
    response = peek(eve, room_id=room, timeout=0)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    # Joined once and left: no longer readable through /events either.
    join(eve, room)
    ok(eve.post(f"{V3}/rooms/{quote(room)}/leave", json={}))
    assert peek(eve, room_id=room, timeout=0).status_code == 403


def test_room_no_longer_world_readable_hides_later_events(alice, eve):
    room = world_readable_room(alice)
    token = initial_end(eve, room)
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "shared"})
    send_ok(alice, room, "private now")
    assert peek(eve, room_id=room, timeout=0, **{"from": token}).status_code == 403


@pytest.mark.parametrize("params", [{"timeout": "soon"}, {"from": "garbage"},
                                    {"from": "s12x"}])
def test_bad_params(alice, params):
    room = world_readable_room(alice)
    response = peek(alice, room_id=room, **params)
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


def test_requires_auth(client):
    response = client.get(f"{V3}/events?room_id={quote('!r:localhost:8008')}")
    assert response.status_code == 401


def test_outsider_sees_typing_receipts_and_members_presence(alice, eve):
    room = world_readable_room(alice)
    event_id = send_ok(alice, room, "seen")
    token = ok(peek(eve, room_id=room, timeout=0))["end"]
    ok(alice.put(f"{V3}/presence/{quote(alice.user_id)}/status",
                 json={"presence": "online", "status_msg": "lemurs"}))
    ok(alice.post(f"{V3}/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", json={}))
    ok(alice.put(f"{V3}/rooms/{quote(room)}/typing/{quote(alice.user_id)}",
                 json={"typing": True, "timeout": 30000}))
    chunk = ok(peek(eve, room_id=room, timeout=0, **{"from": token}))["chunk"]
    by_type = {}
    for event in chunk:
        by_type.setdefault(event["type"], []).append(event)
    presence = by_type["m.presence"][-1]
    assert presence["content"]["user_id"] == alice.user_id
    assert presence["content"]["status_msg"] == "lemurs"
    assert alice.user_id in by_type["m.receipt"][0]["content"][event_id]["m.read"]
    assert by_type["m.typing"][-1]["room_id"] == room
    assert by_type["m.typing"][-1]["content"]["user_ids"] == [alice.user_id]
