"""GET /sync (spec: Syncing): initial and incremental syncs, limited timelines with state deltas,
prev_batch, full_state, long-polling, tokens and query arguments."""

import threading

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, put_state_ok, send_ok
from helpers.sync import event_ids, joined, messages, state_keys, sync, sync_path


def current_state_keys(user, room_id):
    return state_keys(ok(user.get(f"{V3}/rooms/{room_id}/state")))


def test_initial_sync_of_new_user(alice):
    body = sync(alice)
    assert isinstance(body["next_batch"], str) and body["next_batch"]
    assert body["rooms"]["join"] == {}
    assert body["rooms"]["invite"] == {}
    assert body["rooms"]["leave"] == {}


def test_initial_sync_has_state_at_start_of_timeline(alice):
    room = create_room(alice, name="Room", topic="a topic")
    for i in range(3):
        send_ok(alice, room, f"message {i}")
    body = sync(alice, filter={"room": {"timeline": {"limit": 2}}})
    entry = joined(body, room)
    timeline = entry["timeline"]
    assert [e["content"]["body"] for e in timeline["events"]] == ["message 1", "message 2"]
    assert timeline["limited"] is True
    assert isinstance(timeline["prev_batch"], str)
    # Events in /sync carry no room_id; state is the complete state before the timeline.
    assert all("room_id" not in e for e in timeline["events"] + entry["state"]["events"])
    assert state_keys(entry["state"]["events"]) == current_state_keys(alice, room)


def test_small_room_fits_in_timeline(alice):
    room = create_room(alice)
    body = sync(alice, filter={"room": {"timeline": {"limit": 50}}})
    entry = joined(body, room)
    assert entry["timeline"]["limited"] is False
    assert entry["state"]["events"] == []
    types = [e["type"] for e in entry["timeline"]["events"]]
    assert types[0] == "m.room.create"
    timeline_state = {(e["type"], e["state_key"]) for e in entry["timeline"]["events"]
                      if "state_key" in e}
    assert timeline_state == current_state_keys(alice, room)


def test_incremental_sync_returns_only_news(alice):
    quiet = create_room(alice)
    busy = create_room(alice)
    first = sync(alice)
    one = send_ok(alice, busy, "one")
    two = send_ok(alice, busy, "two")
    body = sync(alice, since=first["next_batch"])
    assert quiet not in body["rooms"]["join"]
    entry = joined(body, busy)
    assert event_ids(entry["timeline"]["events"]) == [one, two]
    assert entry["timeline"]["limited"] is False
    assert entry["state"]["events"] == []
    # Nothing new: nothing listed, and the token still works.
    again = sync(alice, since=body["next_batch"])
    assert again["rooms"]["join"] == {}
    assert sync(alice, since=again["next_batch"])["rooms"]["join"] == {}


def test_own_event_carries_transaction_id_for_sending_device(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "mine")
    event = joined(sync(alice, since=since), room)["timeline"]["events"][-1]
    assert "transaction_id" in event["unsigned"]


def test_limited_incremental_sync_gives_state_delta_of_the_gap(alice):
    room = create_room(alice, topic="old topic")
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "before topic change")
    topic = put_state_ok(alice, room, "m.room.topic", {"topic": "new topic"})
    for i in range(3):
        send_ok(alice, room, f"after {i}")
    body = sync(alice, since=since, filter={"room": {"timeline": {"limit": 2}}})
    entry = joined(body, room)
    assert [e["content"]["body"] for e in entry["timeline"]["events"]] == ["after 1", "after 2"]
    assert entry["timeline"]["limited"] is True
    # The delta holds exactly what changed in the gap, not the state the client already has.
    assert event_ids(entry["state"]["events"]) == [topic]


def test_state_change_in_timeline_is_not_repeated_in_state(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    topic = put_state_ok(alice, room, "m.room.topic", {"topic": "t"})
    entry = joined(sync(alice, since=since), room)
    assert event_ids(entry["timeline"]["events"]) == [topic]
    assert entry["state"]["events"] == []


def test_prev_batch_pages_back_through_the_gap(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    sent = [send_ok(alice, room, f"m{i}") for i in range(6)]
    entry = joined(sync(alice, since=since, filter={"room": {"timeline": {"limit": 2}}}), room)
    assert event_ids(entry["timeline"]["events"]) == sent[-2:]
    # /messages from prev_batch to the old since token fills exactly the gap.
    page = ok(messages(alice, room, dir="b", **{"from": entry["timeline"]["prev_batch"]},
                       to=since, limit=10))
    assert event_ids(page["chunk"]) == list(reversed(sent[:-2]))
    # "end" comes with events (Synapse); the next page, empty, has none.
    rest = ok(messages(alice, room, dir="b", **{"from": page["end"]}, to=since, limit=10))
    assert rest["chunk"] == [] and "end" not in rest


def test_timeline_limit_zero(alice):
    room = create_room(alice)
    body = sync(alice, filter={"room": {"timeline": {"limit": 0}}})
    entry = joined(body, room)
    assert entry["timeline"]["events"] == []
    assert entry["timeline"]["limited"] is True
    assert state_keys(entry["state"]["events"]) == current_state_keys(alice, room)


def test_full_state_returns_all_state_and_new_timeline(alice):
    room = create_room(alice, name="Full")
    since = sync(alice)["next_batch"]
    body = sync(alice, since=since, full_state=True, timeout=60000)
    entry = joined(body, room)
    assert entry["timeline"]["events"] == []
    assert state_keys(entry["state"]["events"]) == current_state_keys(alice, room)
    new = send_ok(alice, room, "x")
    entry = joined(sync(alice, since=since, full_state=True), room)
    assert event_ids(entry["timeline"]["events"]) == [new]


def test_next_batch_advances_past_events(alice):
    room = create_room(alice)
    first = sync(alice)
    send_ok(alice, room)
    second = sync(alice, since=first["next_batch"])
    assert second["next_batch"] != first["next_batch"]
    assert sync(alice, since=second["next_batch"])["rooms"]["join"] == {}


# --- long-polling -------------------------------------------------------------------------------

def test_long_poll_returns_when_a_message_arrives(app, alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    result = {}
    started = threading.Event()

    def poll():
        started.set()
        result["response"] = app.test_client().get(sync_path(since=since, timeout=60000),
                                                   headers=alice.headers)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    started.wait(10)
    event_id = send_ok(alice, room, "wake up")
    thread.join(120)
    assert not thread.is_alive()
    body = result["response"].get_json()
    assert event_ids(joined(body, room)["timeline"]["events"]) == [event_id]


def test_long_poll_times_out_empty(alice):
    create_room(alice)
    since = sync(alice)["next_batch"]
    body = sync(alice, since=since, timeout=200)
    assert body["rooms"]["join"] == {}
    assert body["next_batch"]


def test_long_poll_ignores_other_peoples_rooms(app, alice, register_user):
    bob = register_user("bob")
    bobs_room = create_room(bob)
    mine = create_room(alice)
    since = sync(alice)["next_batch"]
    result = {}

    def poll():
        result["response"] = app.test_client().get(sync_path(since=since, timeout=60000),
                                                   headers=alice.headers)

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    send_ok(bob, bobs_room, "not for alice")
    thread.join(0.5)
    assert thread.is_alive()  # still waiting: nothing for alice yet
    mine_event = send_ok(alice, mine, "for alice")
    thread.join(120)
    body = result["response"].get_json()
    assert bobs_room not in body["rooms"]["join"]
    assert event_ids(joined(body, mine)["timeline"]["events"]) == [mine_event]


# --- arguments and tokens -----------------------------------------------------------------------

@pytest.mark.parametrize("since", ["garbage", "s", "s-1", "t12", "s99999999999", "s1_2",
                                   "s" + "9" * 40])
def test_malformed_or_foreign_since_is_invalid_param(alice, since):
    response = alice.get(sync_path(since=since))
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("query", ["timeout=abc", "timeout=-5", "timeout=1.5",
                                   "full_state=yes", "set_presence=busy"])
def test_bad_query_arguments_are_invalid_param(alice, query):
    response = alice.get(f"{V3}/sync?{query}")
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("presence", ["online", "offline", "unavailable"])
def test_set_presence_is_accepted(alice, presence):
    ok(alice.get(f"{V3}/sync?set_presence={presence}"))


def test_sync_requires_auth(client):
    response = client.get(f"{V3}/sync")
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_access_token_in_query_string(client, alice):
    ok(client.get(f"{V3}/sync?access_token={alice.access_token}"))


# --- use_state_after ----------------------------------------------------------------------------

def test_use_state_after_gives_state_at_end_of_timeline(alice):
    room = create_room(alice, topic="old")
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "one")
    topic = put_state_ok(alice, room, "m.room.topic", {"topic": "new"})
    send_ok(alice, room, "two")
    body = sync(alice, since=since, use_state_after="true")
    entry = joined(body, room)
    assert "state" not in entry
    # The state change inside the timeline is part of state_after.
    assert event_ids(entry["state_after"]["events"]) == [topic]
    initial = joined(sync(alice, use_state_after="true",
                          filter={"room": {"timeline": {"limit": 1}}}), room)
    keys = state_keys(initial["state_after"]["events"])
    assert keys == current_state_keys(alice, room)
    # Nothing changed: an empty state_after is still there.
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "three")
    assert joined(sync(alice, since=since, use_state_after="true"),
                  room)["state_after"] == {"events": []}


def test_initial_sync_of_many_rooms_gives_each_its_state_at_timeline_start(alice):
    rooms = [create_room(alice, topic=f"first {i}") for i in range(4)]
    for i, room in enumerate(rooms):
        put_state_ok(alice, room, "m.room.topic", {"topic": f"second {i}"})
        for n in range(i):  # a different number of messages after the change in each room
            send_ok(alice, room, f"m{n}")
        put_state_ok(alice, room, "m.room.topic", {"topic": f"third {i}"})
        put_state_ok(alice, room, "org.example.new", {"n": i})
    body = sync(alice, filter={"room": {"timeline": {"limit": 2}}})
    for i, room in enumerate(rooms):
        entry = joined(body, room)
        state = {(e["type"], e["state_key"]): e["content"] for e in entry["state"]["events"]}
        # The timeline holds the third topic and the new key: the state is from before them.
        assert state[("m.room.topic", "")] == {"topic": f"second {i}"}
        assert ("org.example.new", "") not in state
        types = [e["type"] for e in entry["timeline"]["events"]]
        assert types == ["m.room.topic", "org.example.new"]
