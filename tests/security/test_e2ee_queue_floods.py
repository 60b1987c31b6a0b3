"""Attacks on end-to-end encryption storage: a device uploads one-time keys without end, and a
user floods another user's device with send-to-device messages (no limit on either: disk
without bound, and, for the to-device queue, the victim's room keys buried under junk). Now a
device holds at most ``e2e.max_one_time_keys_per_device`` unclaimed one-time keys (an upload
beyond is refused) and a device's to-device queue at most
``e2e.max_queued_to_device_per_device`` messages, a full queue dropping the oldest message of
the sender with the most queued: the flooder evicts only its own."""

import pytest

from helpers.keys import V3, make_user, new_device

LIMIT = 100


@pytest.fixture
def app(make_app):
    return make_app(e2e={"max_one_time_keys_per_device": LIMIT,
                         "max_queued_to_device_per_device": LIMIT})


def otks(prefix: str, count: int) -> dict:
    # Plain curve25519 keys (unsigned strings) are valid one-time keys too.
    return {f"curve25519:{prefix}{i}": f"key{prefix}{i}" for i in range(count)}


def test_one_time_key_flood_is_refused(client):
    alice = make_user(client, "alice", "A1")
    first = alice.post(f"{V3}/keys/upload", json={"one_time_keys": otks("a", 60)})
    assert first.status_code == 200
    assert first.get_json()["one_time_key_counts"]["curve25519"] == 60
    # The same keys again are no new keys; more than the limit in all are refused, whole.
    assert alice.post(f"{V3}/keys/upload",
                      json={"one_time_keys": otks("a", 60)}).status_code == 200
    response = alice.post(f"{V3}/keys/upload", json={"one_time_keys": otks("b", 41)})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    # Another algorithm counts too (no way around the limit by naming new algorithms).
    response = alice.post(f"{V3}/keys/upload", json={"one_time_keys": {
        f"org.example.alg{i}:k{i}": "x" for i in range(41)}})
    assert response.status_code == 400
    counts = alice.post(f"{V3}/keys/upload", json={}).get_json()["one_time_key_counts"]
    assert counts == {"signed_curve25519": 0, "curve25519": 60}
    assert alice.post(f"{V3}/keys/upload",
                      json={"one_time_keys": otks("c", 40)}).status_code == 200


def test_to_device_flood_evicts_only_the_flooders_messages(client):
    alice = make_user(client, "alice", "A1")
    mallory = make_user(client, "mallory", "M1")
    bob = make_user(client, "bob", "B1")
    other = new_device(client, bob.user_id, "B2")
    response = alice.put(f"{V3}/sendToDevice/m.room_key/k1", json={
        "messages": {bob.user_id: {"B1": {"room_key": "precious"}}}})
    assert response.status_code == 200
    for i in range(LIMIT + 50):
        response = mallory.put(f"{V3}/sendToDevice/m.junk/j{i}", json={
            "messages": {bob.user_id: {"B1": {"n": i}}}})
        assert response.status_code == 200

    events = bob.get(f"{V3}/sync?timeout=0").get_json()["to_device"]["events"]
    assert len(events) == LIMIT
    assert events[0] == {"sender": alice.user_id, "type": "m.room_key",
                         "content": {"room_key": "precious"}}
    # Mallory's newest messages are kept, its oldest went.
    assert [e["content"]["n"] for e in events[1:]] == list(range(51, LIMIT + 50))
    # Another device's queue is its own.
    assert other.get(f"{V3}/sync?timeout=0").get_json().get("to_device", {}).get(
        "events", []) == []
