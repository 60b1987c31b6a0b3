"""Sliding sync (MSC4186) at the unstable endpoint: lists, ranges and ordering, room fields,
timelines, pos tokens and connections, long-polls."""

import threading

from helpers.sliding_sync import SSS, all_rooms, bodies, sss, sss_request
from helpers.rooms import create_room, invite, join, leave, put_state_ok, send_ok


def test_list_orders_rooms_by_activity_with_count(alice):
    rooms = [create_room(alice, name=f"room {i}") for i in range(4)]
    send_ok(alice, rooms[1], "latest")
    body = sss(alice, all_rooms(ranges=[(0, 1)]))
    assert body["lists"]["all"]["count"] == 4
    assert set(body["rooms"]) == {rooms[1], rooms[3]}
    entry = body["rooms"][rooms[1]]
    assert entry["initial"] is True
    assert bodies(entry["timeline"]) == ["latest"]
    assert entry["bump_stamp"] > body["rooms"][rooms[3]]["bump_stamp"]
    assert entry["name"] == "room 1"
    assert entry["joined_count"] == 1 and entry["invited_count"] == 0
    assert entry["notification_count"] == 0 and entry["highlight_count"] == 0
    assert entry["limited"] is True
    assert entry["prev_batch"]
    assert isinstance(body["pos"], str)


def test_message_outside_the_range_moves_the_room_into_it(alice):
    old = create_room(alice, name="old")
    newer = [create_room(alice) for _ in range(3)]
    first = sss(alice, all_rooms(ranges=[(0, 1)]))
    assert old not in first["rooms"]
    send_ok(alice, old, "wake up")
    second = sss(alice, all_rooms(ranges=[(0, 1)]), pos=first["pos"])
    assert old in second["rooms"]
    assert second["rooms"][old]["initial"] is True
    assert bodies(second["rooms"][old]["timeline"]) == ["wake up"]
    assert second["rooms"][old]["num_live"] == 1
    assert set(second["rooms"]) == {old}  # the room pushed out of range is not repeated
    assert newer


def test_incremental_sends_only_what_changed(alice, bob):
    room = create_room(alice, preset="public_chat", name="chat")
    quiet = create_room(alice)
    first = sss(alice, all_rooms(timeline_limit=5))
    assert {room, quiet} <= set(first["rooms"])
    join(bob, room)
    send_ok(bob, room, "hi")
    second = sss(alice, all_rooms(timeline_limit=5), pos=first["pos"])
    assert set(second["rooms"]) == {room}
    entry = second["rooms"][room]
    assert "initial" not in entry and "name" not in entry
    assert [e["type"] for e in entry["timeline"]] == ["m.room.member", "m.room.message"]
    assert entry["limited"] is False and entry["num_live"] == 2
    assert entry["joined_count"] == 2
    third = sss(alice, all_rooms(timeline_limit=5), pos=second["pos"])
    assert third["rooms"] == {}


def test_timeline_limit_gap_is_limited(alice):
    room = create_room(alice)
    first = sss(alice, all_rooms(timeline_limit=2))
    for i in range(5):
        send_ok(alice, room, f"m{i}")
    entry = sss(alice, all_rooms(timeline_limit=2), pos=first["pos"])["rooms"][room]
    assert bodies(entry["timeline"]) == ["m3", "m4"]
    assert entry["limited"] is True
    history = alice.get(f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=1"
                        f"&from={entry['prev_batch']}").get_json()
    assert bodies(history["chunk"]) == ["m2"]


def test_required_state_pairs_wildcards_and_me(alice, bob):
    room = create_room(alice, preset="public_chat", topic="a topic")
    join(bob, room)
    body = sss(alice, {"room_subscriptions": {room: {
        "timeline_limit": 0,
        "required_state": [["m.room.topic", ""], ["m.room.member", "$ME"]]}}})
    state = {(e["type"], e["state_key"]) for e in body["rooms"][room]["required_state"]}
    assert state == {("m.room.topic", ""), ("m.room.member", alice.user_id)}
    body = sss(alice, {"room_subscriptions": {room: {
        "timeline_limit": 0, "required_state": [["m.room.member", "*"]]}}})
    state = {(e["type"], e["state_key"]) for e in body["rooms"][room]["required_state"]}
    assert state == {("m.room.member", alice.user_id), ("m.room.member", bob.user_id)}
    body = sss(alice, {"room_subscriptions": {room: {
        "timeline_limit": 0, "required_state": [["*", "*"]]}}})
    types = {e["type"] for e in body["rooms"][room]["required_state"]}
    assert {"m.room.create", "m.room.power_levels", "m.room.topic"} <= types


def test_lazy_members_are_the_timeline_senders(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    join(carol, room)
    send_ok(bob, room, "from bob")
    body = sss(alice, {"room_subscriptions": {room: {
        "timeline_limit": 1, "required_state": [["m.room.member", "$LAZY"]]}}})
    state = {(e["type"], e["state_key"]) for e in body["rooms"][room]["required_state"]}
    assert state == {("m.room.member", bob.user_id)}


def test_state_change_is_sent_incrementally(alice):
    room = create_room(alice, name="before")
    config = {"room_subscriptions": {room: {"timeline_limit": 0,
                                            "required_state": [["m.room.name", ""]]}}}
    first = sss(alice, config)
    assert first["rooms"][room]["name"] == "before"
    put_state_ok(alice, room, "m.room.name", {"name": "after"})
    entry = sss(alice, config, pos=first["pos"])["rooms"][room]
    assert entry["name"] == "after"
    assert [e["content"] for e in entry["required_state"]] == [{"name": "after"}]


def test_heroes_of_an_unnamed_room(alice, bob):
    ok_profile = alice.put(f"/_matrix/client/v3/profile/{bob.user_id}/displayname",
                           json={"displayname": "x"})
    assert ok_profile.status_code == 403
    bob.put(f"/_matrix/client/v3/profile/{bob.user_id}/displayname", json={"displayname": "Bob"})
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    entry = sss(alice, all_rooms())["rooms"][room]
    assert entry["heroes"] == [{"user_id": bob.user_id, "displayname": "Bob"}]
    assert "name" not in entry


def test_new_invite_appears_with_invite_state(alice, bob):
    first = sss(bob, all_rooms())
    room = create_room(alice, name="join us")
    invite(alice, room, bob)
    body = sss(bob, all_rooms(), pos=first["pos"])
    entry = body["rooms"][room]
    assert entry["initial"] is True and entry["name"] == "join us"
    states = {(e["type"], e["state_key"]) for e in entry["invite_state"]}
    assert ("m.room.member", bob.user_id) in states
    assert entry["timeline"] == [] and entry["required_state"] == []
    assert body["lists"]["all"]["count"] == 1
    # Joining sends the room afresh, with its timeline and its whole required_state.
    join(bob, room)
    again = sss(bob, all_rooms(timeline_limit=1, required_state=[("m.room.name", "")]),
                pos=body["pos"])
    entry = again["rooms"][room]
    assert entry["initial"] is True
    assert entry["timeline"][-1]["content"]["membership"] == "join"
    assert [e["content"] for e in entry["required_state"]] == [{"name": "join us"}]


def test_leaving_a_room_removes_it_from_the_list(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    first = sss(bob, all_rooms())
    assert first["lists"]["all"]["count"] == 1
    leave(bob, room)
    second = sss(bob, all_rooms(), pos=first["pos"])
    entry = second["rooms"][room]
    assert entry["timeline"][-1]["content"]["membership"] == "leave"
    assert second["lists"]["all"]["count"] == 1
    third = sss(bob, all_rooms(), pos=second["pos"])
    assert third["lists"]["all"]["count"] == 0 and third["rooms"] == {}


def test_kicked_rooms_stay_in_the_list(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    alice.post(f"/_matrix/client/v3/rooms/{room}/kick", json={"user_id": bob.user_id})
    assert sss(bob, all_rooms())["lists"]["all"]["count"] == 1


def test_unknown_pos_answers_m_unknown_pos(alice, bob):
    for pos in ("12345", "not-a-pos"):
        response = sss_request(alice, all_rooms(), pos=pos)
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_UNKNOWN_POS"
    # Another user's pos is unknown to this one.
    theirs = sss(bob, all_rooms())["pos"]
    assert sss_request(alice, all_rooms(), pos=theirs).get_json()["errcode"] == "M_UNKNOWN_POS"


def test_retried_pos_answers_the_same_rooms_again(alice):
    room = create_room(alice)
    first = sss(alice, all_rooms())
    send_ok(alice, room, "once")
    lost = sss(alice, all_rooms(), pos=first["pos"])
    assert bodies(lost["rooms"][room]["timeline"]) == ["once"]
    retry = sss(alice, all_rooms(), pos=first["pos"])
    assert bodies(retry["rooms"][room]["timeline"]) == ["once"]
    # The lost response's pos is gone once the client went on from the retried one.
    assert sss(alice, all_rooms(), pos=retry["pos"])["rooms"] == {}
    assert sss_request(alice, all_rooms(), pos=lost["pos"]).status_code == 400


def test_connections_are_per_conn_id(alice):
    room = create_room(alice)
    a = sss(alice, {**all_rooms(), "conn_id": "a"})
    b = sss(alice, {**all_rooms(), "conn_id": "b"})
    send_ok(alice, room, "to both")
    assert room in sss(alice, {**all_rooms(), "conn_id": "a"}, pos=a["pos"])["rooms"]
    assert room in sss(alice, {**all_rooms(), "conn_id": "b"}, pos=b["pos"])["rooms"]
    # A pos belongs to its connection.
    response = sss_request(alice, {**all_rooms(), "conn_id": "b"}, pos=a["pos"])
    assert response.get_json()["errcode"] == "M_UNKNOWN_POS"


def test_long_poll_wakes_on_a_new_message(alice, bob, app):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    first = sss(bob, all_rooms())
    result = {}
    other = app.test_client()

    def poll():
        response = other.post(f"{SSS}?pos={first['pos']}&timeout=30000", json=all_rooms(),
                              headers={"Authorization": f"Bearer {bob.access_token}"})
        result["body"] = response.get_json()

    thread = threading.Thread(target=poll)
    thread.start()
    send_ok(alice, room, "live")
    thread.join()
    assert bodies(result["body"]["rooms"][room]["timeline"]) == ["live"]


def test_timeout_with_nothing_new_answers_empty(alice):
    create_room(alice)
    first = sss(alice, all_rooms())
    body = sss(alice, all_rooms(), pos=first["pos"], timeout=50)
    assert body["rooms"] == {} and body["lists"]["all"]["count"] == 1


def test_subscription_to_a_room_the_user_cannot_see_is_ignored(alice, bob):
    room = create_room(alice, preset="private_chat")
    send_ok(alice, room, "secret")
    body = sss(bob, {"room_subscriptions": {room: {"timeline_limit": 5}}})
    assert body["rooms"] == {}


def test_versions_advertises_simplified_sliding_sync(client):
    features = client.get("/_matrix/client/versions").get_json()["unstable_features"]
    assert features["org.matrix.simplified_msc3575"] is True


def test_notification_counts_follow_messages_and_receipts(alice, bob):
    room = create_room(alice, preset="trusted_private_chat", invite=[bob.user_id])
    join(bob, room)
    first = sss(alice, all_rooms())
    event_id = send_ok(bob, room, "ping")
    second = sss(alice, all_rooms(), pos=first["pos"])
    assert second["rooms"][room]["notification_count"] == 1
    receipt = alice.post(f"/_matrix/client/v3/rooms/{room}/receipt/m.read/{event_id}", json={})
    assert receipt.status_code == 200
    third = sss(alice, all_rooms(), pos=second["pos"])
    assert third["rooms"][room]["notification_count"] == 0
    assert third["rooms"][room]["timeline"] == []


def test_avatar_and_bump_stamp_of_non_bumping_events(alice):
    room = create_room(alice)
    put_state_ok(alice, room, "m.room.avatar", {"url": "mxc://localhost/abc"})
    first = sss(alice, all_rooms())
    entry = first["rooms"][room]
    assert entry["avatar"] == "mxc://localhost/abc"
    stamp = entry["bump_stamp"]
    put_state_ok(alice, room, "m.room.topic", {"topic": "not a bump"})
    later = sss(alice, all_rooms(), pos=first["pos"])["rooms"][room]
    assert later["bump_stamp"] == stamp
    send_ok(alice, room, "a bump")
    assert sss(alice, all_rooms())["rooms"][room]["bump_stamp"] > stamp


def test_subscribing_with_a_larger_timeline_limit_expands_the_timeline(alice):
    room = create_room(alice)
    for i in range(4):
        send_ok(alice, room, f"m{i}")
    first = sss(alice, all_rooms(timeline_limit=1))
    assert bodies(first["rooms"][room]["timeline"]) == ["m3"]
    opened = {**all_rooms(timeline_limit=1),
              "room_subscriptions": {room: {"timeline_limit": 3, "required_state": []}}}
    second = sss(alice, opened, pos=first["pos"])
    entry = second["rooms"][room]
    assert entry["unstable_expanded_timeline"] is True and "initial" not in entry
    assert bodies(entry["timeline"]) == ["m1", "m2", "m3"] and entry["limited"] is True
    # Nothing new: the room is not sent again while the subscription stays.
    assert sss(alice, opened, pos=second["pos"])["rooms"] == {}


def test_long_poll_wakes_on_a_new_invite(alice, bob, app):
    first = sss(bob, all_rooms())
    result = {}
    other = app.test_client()

    def poll():
        response = other.post(f"{SSS}?pos={first['pos']}&timeout=30000", json=all_rooms(),
                              headers={"Authorization": f"Bearer {bob.access_token}"})
        result["body"] = response.get_json()

    thread = threading.Thread(target=poll)
    thread.start()
    room = create_room(alice, invite=[bob.user_id])
    thread.join()
    assert room in result["body"]["rooms"]
    assert "invite_state" in result["body"]["rooms"][room]


def test_a_connection_unused_for_its_lifetime_is_forgotten(alice, clock):
    first = sss(alice, all_rooms())
    clock.advance(6 * 24 * 3600 * 1000)
    second = sss(alice, all_rooms(), pos=first["pos"])  # still known, and used again
    clock.advance(6 * 24 * 3600 * 1000)
    third = sss(alice, all_rooms(), pos=second["pos"])
    clock.advance(7 * 24 * 3600 * 1000 + 1)
    response = sss_request(alice, all_rooms(), pos=third["pos"])
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_UNKNOWN_POS"
