"""PUT /rooms/{roomId}/send/{eventType}/{txnId}: idempotency, validation, refusals; Synapse's
POST /rooms/{roomId}/send/{eventType} without a txnId."""

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, get_event, put_state_ok, send, send_ok, state_map


def test_send_and_read_back(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    event_id = send_ok(alice, room_id, "hello", txn="m1")
    event = ok(get_event(alice, room_id, event_id))
    assert event["type"] == "m.room.message"
    assert event["content"] == {"msgtype": "m.text", "body": "hello"}
    assert "state_key" not in event
    assert event["unsigned"]["transaction_id"] == "m1"
    assert event["unsigned"]["membership"] == "join"
    assert event["unsigned"]["age"] >= 0
    for internal in ("prev_events", "auth_events", "depth", "hashes", "signatures"):
        assert internal not in event


def test_retry_with_same_txn_returns_first_event(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    first = send_ok(alice, room_id, "once", txn="same")
    again = send_ok(alice, room_id, "once", txn="same")
    assert again == first
    other_room = create_room(alice)
    # Another path (room) with the same txnId is another request.
    assert send_ok(alice, other_room, "once", txn="same") != first
    assert send_ok(alice, room_id, "once", txn="same", event_type="m.other") != first
    messages = ok(alice.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=50"))["chunk"]
    assert [m["event_id"] for m in messages if m["type"] == "m.room.message"] == [first]


def test_same_txn_from_another_device_is_a_new_event(register_user, client):
    alice = register_user("alice")
    room_id = create_room(alice)
    first = send_ok(alice, room_id, "hi", txn="dup")
    login = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": alice.password}))
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    second = ok(client.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/dup",
                           json={"body": "hi", "msgtype": "m.text"}, headers=headers))
    assert second["event_id"] != first
    # transaction_id is shown to the sending device only.
    seen_by_first = ok(get_event(alice, room_id, second["event_id"]))
    assert "transaction_id" not in seen_by_first["unsigned"]
    seen_by_second = ok(client.get(f"{V3}/rooms/{q(room_id)}/event/{q(second['event_id'])}",
                                   headers=headers))
    assert seen_by_second["unsigned"]["transaction_id"] == "dup"


def test_bad_bodies(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    path = f"{V3}/rooms/{q(room_id)}/send/m.room.message"
    error(alice.put(f"{path}/a", data="not json"), 400, "M_NOT_JSON")
    error(alice.put(f"{path}/b", json=[1, 2]), 400, "M_BAD_JSON")
    error(alice.put(f"{path}/c", json={"body": 1.5}), 400, "M_BAD_JSON")
    error(alice.put(f"{path}/d", json={"n": 2**53}), 400, "M_BAD_JSON")
    error(alice.put(f"{path}/e", json={"body": "x" * 70000}), 413, "M_TOO_LARGE")
    error(alice.put(f"{V3}/rooms/{q(room_id)}/send/{'t' * 256}/f", json={}), 413, "M_TOO_LARGE")
    # Content just under the limit is fine.
    ok(alice.put(f"{path}/g", json={"body": "x" * 60000}))


def test_refused_events_store_nothing(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice)
    before = ok(alice.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=100"))["chunk"]
    body = error(send(eve, room_id, "intrusion"), 403, "M_FORBIDDEN")
    assert "not in the room" in body["error"]
    error(send(eve, "!unknown:localhost:8008", "x"), 403, "M_FORBIDDEN")
    after = ok(alice.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=100"))["chunk"]
    assert [e["event_id"] for e in after] == [e["event_id"] for e in before]


def test_power_levels_restrict_sending(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat", power_level_content_override={
        "events": {"m.room.message": 20, "m.room.power_levels": 100}})
    ok(bob.post(f"{V3}/join/{q(room_id)}", json={}))
    body = error(send(bob, room_id, "hi"), 403, "M_FORBIDDEN")
    assert "power level 20" in body["error"]
    assert send_ok(alice, room_id, "hi")
    ok(bob.put(f"{V3}/rooms/{q(room_id)}/send/org.example.custom/x1", json={"a": 1}))


def test_redaction_through_send(register_user):
    for version in ("10", "11"):
        alice = register_user(f"alice{version}")
        room_id = create_room(alice, room_version=version)
        target = send_ok(alice, room_id, "oops")
        redaction = ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.redaction/r{version}",
                                 json={"redacts": target, "reason": "typo"}))["event_id"]
        event = ok(get_event(alice, room_id, redaction))
        assert event["redacts"] == target and event["content"]["redacts"] == target
        assert ok(get_event(alice, room_id, target))["content"] == {}
        error(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.redaction/bad{version}",
                        json={"reason": "no target"}), 400, "M_BAD_JSON")


def test_duplicate_annotation(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    target = send_ok(alice, room_id, "react to me")
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": "👍"}}
    path = f"{V3}/rooms/{q(room_id)}/send/m.reaction"
    first = ok(alice.put(f"{path}/1", json=reaction))["event_id"]
    error(alice.put(f"{path}/2", json=reaction), 400, "M_DUPLICATE_ANNOTATION")
    other = {"m.relates_to": {**reaction["m.relates_to"], "key": "👎"}}
    ok(alice.put(f"{path}/3", json=other))
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/redact/{q(first)}/x", json={}))
    ok(alice.put(f"{path}/4", json=reaction))  # the first one was redacted


def test_state_type_through_send_is_a_message_event(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, name="Kept")
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.name/n1", json={"name": "Not state"}))
    assert state_map(alice, room_id)[("m.room.name", "")]["content"] == {"name": "Kept"}
    put_state_ok(alice, room_id, "m.room.name", {"name": "Changed"})
    assert state_map(alice, room_id)[("m.room.name", "")]["content"] == {"name": "Changed"}


def test_suspended_user_cannot_send(register_user, app):
    from homeserver.models.users import User

    alice = register_user("alice")
    room_id = create_room(alice)
    with app.app_context():
        User.update(suspended=True).where(User.user_id == alice.user_id).execute()
    error(send(alice, room_id, "hi"), 403, "M_USER_SUSPENDED")
    ok(alice.post(f"{V3}/rooms/{q(room_id)}/leave", json={}))


def test_event_endpoint_bundles_edits(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    original = send_ok(alice, room_id, "teh")
    edit = ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/edit1", json={
        "msgtype": "m.text", "body": "* the",
        "m.new_content": {"msgtype": "m.text", "body": "the"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original}}))["event_id"]
    event = ok(get_event(alice, room_id, original))
    assert event["unsigned"]["m.relations"]["m.replace"]["event_id"] == edit


def test_post_without_txn_id_sends_each_time(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    path = f"{V3}/rooms/{q(room_id)}/send/m.room.message"
    body = {"msgtype": "m.text", "body": "no txn"}
    first = ok(alice.post(path, json=body))["event_id"]
    second = ok(alice.post(path, json=body))["event_id"]
    assert first != second
    event = ok(get_event(alice, room_id, first))
    assert event["content"] == body and event["sender"] == alice.user_id


def test_post_without_txn_id_refusals(register_user):
    alice, eve = register_user("alice"), register_user("eve")
    room_id = create_room(alice)
    path = f"{V3}/rooms/{q(room_id)}/send/m.room.message"
    error(eve.post(path, json={"body": "x"}), 403, "M_FORBIDDEN")
    error(alice.post(path, data="not json"), 400, "M_NOT_JSON")
    error(alice.post(path, json={"body": "A" * 70000}), 413, "M_TOO_LARGE")
