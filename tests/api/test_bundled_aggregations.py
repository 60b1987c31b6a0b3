"""Timelines carry bundled aggregations (unsigned.m.relations) as the spec asks: /sync,
/messages and /context show a thread root's summary and an edited event's replacement."""

V3 = "/_matrix/client/v3"


def send(user, room_id, content, txn):
    response = user.put(f"{V3}/rooms/{room_id}/send/m.room.message/{txn}", json=content)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["event_id"]


def room_with_thread_and_edit(register_user):
    alice = register_user("alice")
    room_id = alice.post(f"{V3}/createRoom", json={"preset": "private_chat"}).get_json()["room_id"]
    root = send(alice, room_id, {"msgtype": "m.text", "body": "root"}, "t1")
    send(alice, room_id, {"msgtype": "m.text", "body": "in thread",
                          "m.relates_to": {"rel_type": "m.thread", "event_id": root}}, "t2")
    edit = send(alice, room_id, {"msgtype": "m.text", "body": "* root!",
                                 "m.new_content": {"msgtype": "m.text", "body": "root!"},
                                 "m.relates_to": {"rel_type": "m.replace", "event_id": root}},
                "t3")
    return alice, room_id, root, edit


def relations_of(events, event_id):
    event = next(e for e in events if e["event_id"] == event_id)
    return event.get("unsigned", {}).get("m.relations", {})


def check(relations, edit_id):
    assert relations["m.thread"]["count"] == 1
    assert relations["m.thread"]["current_user_participated"] is True
    assert relations["m.replace"]["event_id"] == edit_id


def test_sync_timeline_bundles(register_user):
    alice, room_id, root, edit = room_with_thread_and_edit(register_user)
    body = alice.get(f"{V3}/sync").get_json()
    events = body["rooms"]["join"][room_id]["timeline"]["events"]
    check(relations_of(events, root), edit)
    assert all("room_id" not in event for event in events)


def test_messages_bundle(register_user):
    alice, room_id, root, edit = room_with_thread_and_edit(register_user)
    chunk = alice.get(f"{V3}/rooms/{room_id}/messages?dir=b&limit=50").get_json()["chunk"]
    check(relations_of(chunk, root), edit)
    assert all(event["room_id"] == room_id for event in chunk)


def test_context_bundles(register_user):
    alice, room_id, root, edit = room_with_thread_and_edit(register_user)
    body = alice.get(f"{V3}/rooms/{room_id}/context/{root}?limit=5").get_json()
    check(body["event"].get("unsigned", {}).get("m.relations", {}), edit)
