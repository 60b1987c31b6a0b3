"""GET /events without room_id (getEvents, deprecated: old_sync.yaml): the user's event stream
in stream order, paged by ``limit`` through ``end``, with typing, receipts, account data and
presence beside the room events, history visibility as /sync, the long-poll woken by the
notifier, and GET /events/{eventId} (getOneEvent) with the visibility of /rooms/{id}/event."""

import threading
from urllib.parse import quote

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, invite, join, leave, put_state_ok, send_ok
from helpers.sync import event_ids


def stream(user, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return user.get(f"{V3}/events?{query}")


def now_token(user) -> str:
    return ok(stream(user, timeout=0))["end"]


def of_type(body, event_type):
    return [event for event in body["chunk"] if event["type"] == event_type]


def test_new_room_events_in_order_with_their_room(alice):
    room = create_room(alice)
    token = now_token(alice)
    sent = [send_ok(alice, room, f"m{i}") for i in range(3)]
    body = ok(stream(alice, timeout=0, **{"from": token}))
    assert body["start"] == token
    assert event_ids(of_type(body, "m.room.message")) == sent
    assert all(event["room_id"] == room for event in of_type(body, "m.room.message"))
    again = ok(stream(alice, timeout=0, **{"from": body["end"]}))
    assert of_type(again, "m.room.message") == []


def test_limit_pages_through_everything(alice):
    room = create_room(alice)
    other = create_room(alice)
    token = now_token(alice)
    sent = [send_ok(alice, room if i % 2 else other, f"m{i}") for i in range(12)]
    seen = []
    for _ in range(10):
        body = ok(stream(alice, timeout=0, limit=5, **{"from": token}))
        page = event_ids(of_type(body, "m.room.message"))
        assert len(page) <= 5
        seen += page
        token = body["end"]
        if not page:
            break
    assert seen == sent


def test_a_room_of_others_is_not_streamed(alice, bob):
    room = create_room(bob, preset="public_chat")
    token = now_token(alice)
    send_ok(bob, room, "not for alice")
    assert of_type(ok(stream(alice, timeout=0, **{"from": token})), "m.room.message") == []


def test_invite_arrives_but_not_the_room_history(alice, bob):
    room = create_room(bob)
    send_ok(bob, room, "before the invite")
    token = now_token(alice)
    invite(bob, room, alice)
    send_ok(bob, room, "while invited")
    body = ok(stream(alice, timeout=0, **{"from": token}))
    members = of_type(body, "m.room.member")
    assert [(e["state_key"], e["content"]["membership"]) for e in members] == \
        [(alice.user_id, "invite")]
    assert of_type(body, "m.room.message") == []


def test_nothing_after_leaving(alice, bob):
    room = create_room(bob, preset="public_chat")
    join(alice, room)
    token = now_token(alice)
    leave(alice, room)
    send_ok(bob, room, "after alice left")
    body = ok(stream(alice, timeout=0, **{"from": token}))
    assert [e["content"]["membership"] for e in of_type(body, "m.room.member")] == ["leave"]
    assert of_type(body, "m.room.message") == []


def test_history_visibility_applies(alice, bob):
    room = create_room(bob, preset="public_chat")
    put_state_ok(bob, room, "m.room.history_visibility", {"history_visibility": "joined"})
    token = now_token(alice)
    send_ok(bob, room, "before alice joined")
    join(alice, room)
    after = send_ok(bob, room, "after")
    body = ok(stream(alice, timeout=0, **{"from": token}))
    assert event_ids(of_type(body, "m.room.message")) == [after]


def test_typing_receipts_and_account_data(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(bob, room, "read me")
    token = now_token(alice)
    ok(bob.put(f"{V3}/rooms/{q(room)}/typing/{q(bob.user_id)}",
               json={"typing": True, "timeout": 30000}))
    ok(bob.post(f"{V3}/rooms/{q(room)}/receipt/m.read/{q(event_id)}", json={}))
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/account_data/org.example.setting",
                 json={"x": 1}))
    ok(alice.put(f"{V3}/user/{q(alice.user_id)}/rooms/{q(room)}/tags/work", json={}))
    body = ok(stream(alice, timeout=0, **{"from": token}))
    typing = of_type(body, "m.typing")
    assert typing and typing[-1]["room_id"] == room
    assert typing[-1]["content"]["user_ids"] == [bob.user_id]
    receipt = of_type(body, "m.receipt")
    assert receipt[0]["room_id"] == room
    assert bob.user_id in receipt[0]["content"][event_id]["m.read"]
    assert of_type(body, "org.example.setting")[0]["content"] == {"x": 1}
    tags = of_type(body, "m.tag")
    assert tags[0]["room_id"] == room and "work" in tags[0]["content"]["tags"]


def test_presence_names_the_user_in_content(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    token = now_token(alice)
    ok(bob.put(f"{V3}/presence/{q(bob.user_id)}/status",
               json={"presence": "online", "status_msg": "here"}))
    body = ok(stream(alice, timeout=0, **{"from": token}))
    mine = [e for e in of_type(body, "m.presence") if e["sender"] == bob.user_id]
    assert mine[-1]["content"]["user_id"] == bob.user_id
    assert mine[-1]["content"]["status_msg"] == "here"


def test_calling_it_sets_the_user_online(alice):
    ok(stream(alice, timeout=0))
    status = ok(alice.get(f"{V3}/presence/{q(alice.user_id)}/status"))
    assert status["presence"] == "online"


def test_long_poll_wakes_on_a_new_event(alice, app):
    room = create_room(alice)
    token = now_token(alice)
    client = app.test_client()
    result = {}

    def wait():
        result["body"] = client.get(f"{V3}/events?from={quote(token)}&timeout=60000",
                                    headers=alice.headers).get_json()

    waiter = threading.Thread(target=wait)
    waiter.start()
    sent = send_ok(alice, room, "wake up")
    waiter.join(120)
    assert not waiter.is_alive()
    assert sent in event_ids(result["body"]["chunk"])


def test_long_poll_times_out_empty(alice):
    token = now_token(alice)
    body = ok(stream(alice, timeout=1, **{"from": token}))
    assert body["chunk"] == []
    assert body["start"] == token


def test_tokens_work_as_pagination_tokens(alice):
    room = create_room(alice)
    token = now_token(alice)
    sent = send_ok(alice, room, "m")
    end = ok(stream(alice, timeout=0, **{"from": token}))["end"]
    back = ok(alice.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=1&from={quote(end)}"))
    assert event_ids(back["chunk"]) == [sent]


@pytest.mark.parametrize("params", [{"timeout": "soon"}, {"limit": "hello"}, {"limit": -2},
                                    {"from": "garbage"}])
def test_bad_params(alice, params):
    error(stream(alice, **params), 400, "M_INVALID_PARAM")


def test_requires_auth(client):
    error(client.get(f"{V3}/events"), 401, "M_MISSING_TOKEN")


def test_guest_must_name_a_room(make_app):
    client = make_app(registration={"enabled": True, "allow_guests": True}).test_client()
    token = ok(client.post(f"{V3}/register?kind=guest", json={}))["access_token"]
    response = client.get(f"{V3}/events?timeout=0",
                          headers={"Authorization": f"Bearer {token}"})
    error(response, 400, "M_MISSING_PARAM")


# --- GET /events/{eventId} (getOneEvent) ---------------------------------------------------

def test_get_one_event(alice):
    room = create_room(alice)
    event_id = send_ok(alice, room, "hi")
    event = ok(alice.get(f"{V3}/events/{q(event_id)}"))
    assert (event["event_id"], event["room_id"], event["content"]["body"]) == \
        (event_id, room, "hi")


def test_get_one_event_hides_what_the_user_may_not_see(alice, eve):
    room = create_room(alice)
    event_id = send_ok(alice, room, "private")
    error(eve.get(f"{V3}/events/{q(event_id)}"), 404, "M_NOT_FOUND")
    error(eve.get(f"{V3}/events/{q('$unknown')}"), 404, "M_NOT_FOUND")
