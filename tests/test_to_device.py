"""PUT /sendToDevice and delivery through /sync: order, idempotency, batches, acknowledgement."""

from test_keys_support import V3, make_user, new_device

from homeserver.services.e2ee import to_device


def send(sender, txn, messages, event_type="m.test"):
    response = sender.put(f"{V3}/sendToDevice/{event_type}/{txn}", json={"messages": messages})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {}


def sync(user, since=None):
    url = f"{V3}/sync?timeout=0" + (f"&since={since}" if since else "")
    response = user.get(url)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body.get("to_device", {}).get("events", []), body["next_batch"]


def test_message_delivered_once_to_the_named_device(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    bob2 = new_device(client, bob.user_id, "B2")
    _, bob_since = sync(bob)
    _, bob2_since = sync(bob2)
    send(alice, "t1", {bob.user_id: {"B1": {"hello": "world"}}}, "m.room_key_request")
    events, bob_since = sync(bob, bob_since)
    assert events == [{"sender": alice.user_id, "type": "m.room_key_request",
                       "content": {"hello": "world"}}]
    assert sync(bob, bob_since)[0] == []
    assert sync(bob2, bob2_since)[0] == []


def test_star_reaches_every_device_and_retried_txn_is_not_resent(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    bob2 = new_device(client, bob.user_id, "B2")
    send(alice, "same", {bob.user_id: {"*": {"n": 1}}})
    send(alice, "same", {bob.user_id: {"*": {"n": 1}}})  # a retry
    for device in (bob, bob2):
        events, _ = sync(device)
        assert [e["content"] for e in events] == [{"n": 1}]
    # The same txn id from another device of the sender is a new message.
    alice2 = new_device(client, alice.user_id, "A2")
    send(alice2, "same", {bob.user_id: {"B1": {"n": 2}}})
    assert [e["content"] for e in sync(bob)[0]] == [{"n": 1}, {"n": 2}]


def test_unknown_devices_users_and_bad_bodies(client):
    alice = make_user(client, "alice", "A1")
    send(alice, "t", {"@nobody:localhost:8008": {"X": {}}, alice.user_id: {"NOPE": {}},
                      "@x:remote.example": {"*": {}}})
    assert sync(alice)[0] == []
    for body in ({}, {"messages": []}, {"messages": {alice.user_id: {"A1": "text"}}},
                 {"messages": {alice.user_id: {"A1": {"f": 1.5}}}}):
        response = alice.put(f"{V3}/sendToDevice/m.test/bad", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["errcode"] == "M_BAD_JSON"
    assert client.put(f"{V3}/sendToDevice/m.test/x", json={"messages": {}}).status_code == 401


def test_lost_response_is_not_lost(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    _, since = sync(bob)
    send(alice, "t1", {bob.user_id: {"B1": {"n": 1}}})
    events, lost_batch = sync(bob, since)
    assert [e["content"] for e in events] == [{"n": 1}]
    # The client never saw that response and syncs again from the old token.
    send(alice, "t2", {bob.user_id: {"B1": {"n": 2}}})
    events, next_batch = sync(bob, since)
    assert [e["content"] for e in events] == [{"n": 1}, {"n": 2}]
    events, _ = sync(bob, next_batch)
    assert events == []


def test_large_queue_arrives_in_order_in_batches(client, monkeypatch):
    monkeypatch.setattr(to_device, "BATCH", 5)
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    _, since = sync(bob)
    for n in range(12):
        send(alice, f"t{n}", {bob.user_id: {"B1": {"n": n}}})
    received, sizes = [], []
    lost_once = False
    while True:
        events, next_batch = sync(bob, since)
        if not events:
            break
        sizes.append(len(events))
        if not lost_once and sizes == [5, 5]:
            lost_once = True  # drop this response: the retry must give the same batch
            again, _ = sync(bob, since)
            assert again == events
        received.extend(e["content"]["n"] for e in events)
        since = next_batch
    assert received == list(range(12))
    assert max(sizes) <= 5
    assert sizes == [5, 5, 2]
