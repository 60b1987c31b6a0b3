"""Filters applied by /sync: timeline and state event filters (types and senders with `*`,
contains_url, limit), room lists, event_fields, event_format."""

from helpers.api import V3, ok
from helpers.rooms import create_room, join, put_state_ok, send_ok
from helpers.sync import event_ids, joined, sync


def test_timeline_types_with_wildcard(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    message = send_ok(alice, room, "m")
    custom = send_ok(alice, room, "c", event_type="org.example.custom")
    topic = put_state_ok(alice, room, "m.room.topic", {"topic": "t"})
    only_messages = {"room": {"timeline": {"types": ["m.room.message"]}}}
    assert event_ids(joined(sync(alice, since=since, filter=only_messages), room)
                     ["timeline"]["events"]) == [message]
    room_star = {"room": {"timeline": {"types": ["m.room.*"]}}}
    assert event_ids(joined(sync(alice, since=since, filter=room_star), room)
                     ["timeline"]["events"]) == [message, topic]
    not_room_star = {"room": {"timeline": {"not_types": ["m.*"]}}}
    assert event_ids(joined(sync(alice, since=since, filter=not_room_star), room)
                     ["timeline"]["events"]) == [custom]


def test_wildcard_is_not_a_regex_and_matches_case(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "x", event_type="m.roomXmessage")
    send_ok(alice, room, "x", event_type="M.ROOM.MESSAGE")
    real = send_ok(alice, room, "x")
    entry = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"types": ["m.room.mess*"]}}}), room)
    assert event_ids(entry["timeline"]["events"]) == [real]


def test_state_filtered_out_of_timeline_still_reaches_the_client(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    topic = put_state_ok(alice, room, "m.room.topic", {"topic": "filtered"})
    send_ok(alice, room, "m")
    entry = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"types": ["m.room.message"]}}}), room)
    assert topic in event_ids(entry["state"]["events"])


def test_senders_and_not_senders(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    since = sync(alice)["next_batch"]
    from_alice = send_ok(alice, room, "a")
    from_bob = send_ok(bob, room, "b")
    entry = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"senders": [bob.user_id]}}}), room)
    assert event_ids(entry["timeline"]["events"]) == [from_bob]
    entry = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"not_senders": [bob.user_id]}}}), room)
    assert event_ids(entry["timeline"]["events"]) == [from_alice]
    # not_senders wins over senders.
    body = sync(alice, since=since, filter={"room": {"timeline": {
        "senders": [bob.user_id], "not_senders": [bob.user_id]}}})
    entry = body["rooms"]["join"].get(room, {"timeline": {"events": []}})
    assert entry["timeline"]["events"] == []


def test_contains_url(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    image = send_ok(alice, room, "pic", msgtype="m.image", url="mxc://localhost:8008/abc")
    text = send_ok(alice, room, "text")
    with_url = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"contains_url": True}}}), room)
    assert event_ids(with_url["timeline"]["events"]) == [image]
    without = joined(sync(alice, since=since, filter={
        "room": {"timeline": {"contains_url": False}}}), room)
    assert event_ids(without["timeline"]["events"]) == [text]


def test_rooms_and_not_rooms(alice):
    first = create_room(alice)
    second = create_room(alice)
    body = sync(alice, filter={"room": {"rooms": [first]}})
    assert set(body["rooms"]["join"]) == {first}
    body = sync(alice, filter={"room": {"not_rooms": [first]}})
    assert set(body["rooms"]["join"]) == {second}
    body = sync(alice, filter={"room": {"timeline": {"not_rooms": [first]}}})
    assert joined(body, second)["timeline"]["events"]


def test_state_types_filter(alice):
    room = create_room(alice, topic="t", name="n")
    entry = joined(sync(alice, filter={"room": {"timeline": {"limit": 1},
                                                "state": {"types": ["m.room.name"]}}}), room)
    assert {e["type"] for e in entry["state"]["events"]} <= {"m.room.name"}


def test_event_fields(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "only the body")
    entry = joined(sync(alice, since=since, filter={
        "event_fields": ["type", "content.body"]}), room)
    assert entry["timeline"]["events"] == [{"type": "m.room.message",
                                           "content": {"body": "only the body"}}]


def test_event_fields_escaped_dot(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "x", **{"m.relates_to": {"rel_type": "m.thread", "event_id": "$root"},
                                 "m.new": "gone"})
    entry = joined(sync(alice, since=since, filter={
        "event_fields": ["content.m\\.relates_to.rel_type"]}), room)
    assert entry["timeline"]["events"] == [{"content": {"m.relates_to": {"rel_type": "m.thread"}}}]


def test_event_format_federation(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    send_ok(alice, room, "raw")
    [event] = joined(sync(alice, since=since, filter={"event_format": "federation"}),
                     room)["timeline"]["events"]
    # The PDU: its room version's fields, with room_id and the event graph.
    assert event["room_id"] == room
    assert "prev_events" in event and "auth_events" in event and "depth" in event


def test_unread_thread_notifications_accepted(alice):
    create_room(alice)
    ok(alice.get(f"{V3}/sync?filter="
                 '{"room":{"timeline":{"unread_thread_notifications":true}}}'))
