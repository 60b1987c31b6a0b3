"""Sliding sync (MSC4186) extensions: to_device, e2ee, account_data, receipts, typing."""

from urllib.parse import quote

from helpers.sliding_sync import all_rooms, sss
from helpers.rooms import create_room, join, send_ok

V3 = "/_matrix/client/v3"


def _send_to_device(sender, target, txn, body):
    response = sender.put(f"{V3}/sendToDevice/m.test/{txn}", json={
        "messages": {target.user_id: {target.device_id: {"body": body}}}})
    assert response.status_code == 200


def _with(name, **config):
    return {**all_rooms(), "extensions": {name: {"enabled": True, **config}}}


def test_to_device_is_delivered_once_across_retries(alice, bob):
    _send_to_device(alice, bob, "t1", "first")
    first = sss(bob, _with("to_device"))["extensions"]["to_device"]
    assert [e["content"]["body"] for e in first["events"]] == ["first"]
    assert first["events"][0]["sender"] == alice.user_id
    # The response was lost: the retry (same since) gets the message again.
    retry = sss(bob, _with("to_device"))["extensions"]["to_device"]
    assert [e["content"]["body"] for e in retry["events"]] == ["first"]
    since = retry["next_batch"]
    _send_to_device(alice, bob, "t2", "second")
    second = sss(bob, _with("to_device", since=since))["extensions"]["to_device"]
    assert [e["content"]["body"] for e in second["events"]] == ["second"]
    third = sss(bob, _with("to_device", since=second["next_batch"]))["extensions"]["to_device"]
    assert third["events"] == []


def test_to_device_wakes_a_long_poll_and_disabled_means_absent(alice, bob):
    first = sss(bob, _with("to_device"))
    assert "to_device" not in sss(bob, {**all_rooms(), "conn_id": "other"})["extensions"]
    _send_to_device(alice, bob, "t3", "wake")
    body = sss(bob, _with("to_device", since=first["extensions"]["to_device"]["next_batch"]),
               pos=first["pos"], timeout=10000)
    assert [e["content"]["body"] for e in body["extensions"]["to_device"]["events"]] == ["wake"]


def test_e2ee_key_counts_and_device_list_changes(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    upload = bob.post(f"{V3}/keys/upload", json={"one_time_keys": {
        "signed_curve25519:AAAA": {"key": "k", "signatures": {}}},
        "fallback_keys": {"signed_curve25519:BBBB": {"key": "f", "fallback": True,
                                                     "signatures": {}}}})
    assert upload.status_code == 200, upload.get_json()
    first = sss(bob, _with("e2ee"))
    e2ee = first["extensions"]["e2ee"]
    assert e2ee["device_one_time_keys_count"]["signed_curve25519"] == 1
    assert e2ee["device_unused_fallback_key_types"] == ["signed_curve25519"]
    assert e2ee["device_lists"] == {"changed": [], "left": []}
    alice.post(f"{V3}/keys/upload", json={"device_keys": {
        "user_id": alice.user_id, "device_id": alice.device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2"],
        "keys": {f"ed25519:{alice.device_id}": "x"}, "signatures": {}}})
    second = sss(bob, _with("e2ee"), pos=first["pos"], timeout=10000)
    assert alice.user_id in second["extensions"]["e2ee"]["device_lists"]["changed"]


def test_account_data_global_and_per_room(alice):
    room = create_room(alice)
    alice.put(f"{V3}/user/{quote(alice.user_id)}/account_data/m.custom", json={"a": 1})
    alice.put(f"{V3}/user/{quote(alice.user_id)}/rooms/{quote(room)}/account_data/m.room_custom",
              json={"b": 2})
    first = sss(alice, _with("account_data"))["extensions"]["account_data"]
    assert {"type": "m.custom", "content": {"a": 1}} in first["global"]
    assert first["rooms"][room] == [{"type": "m.room_custom", "content": {"b": 2}}]
    body = sss(alice, _with("account_data"))
    alice.put(f"{V3}/user/{quote(alice.user_id)}/account_data/m.custom", json={"a": 3})
    later = sss(alice, _with("account_data"), pos=body["pos"], timeout=10000)
    account_data = later["extensions"]["account_data"]
    assert account_data["global"] == [{"type": "m.custom", "content": {"a": 3}}]
    assert account_data["rooms"] == {}


def test_receipts_and_typing(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(alice, room, "read me")
    body = {**all_rooms(), "extensions": {"receipts": {"enabled": True},
                                          "typing": {"enabled": True}}}
    first = sss(alice, body)
    assert first["extensions"]["receipts"] == {"rooms": {}}
    bob.post(f"{V3}/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", json={})
    second = sss(alice, body, pos=first["pos"], timeout=10000)
    receipt = second["extensions"]["receipts"]["rooms"][room]
    assert receipt["type"] == "m.receipt"
    assert bob.user_id in receipt["content"][event_id]["m.read"]
    bob.put(f"{V3}/rooms/{quote(room)}/typing/{quote(bob.user_id)}",
            json={"typing": True, "timeout": 30000})
    third = sss(alice, body, pos=second["pos"], timeout=10000)
    assert third["extensions"]["typing"]["rooms"][room] == {
        "type": "m.typing", "content": {"user_ids": [bob.user_id]}}


def test_initial_room_gets_receipts_of_its_timeline(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(alice, room, "seen")
    bob.post(f"{V3}/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", json={})
    body = sss(alice, {**all_rooms(timeline_limit=1), "extensions": {"receipts": {"enabled": True}}})
    content = body["extensions"]["receipts"]["rooms"][room]["content"]
    assert bob.user_id in content[event_id]["m.read"]


def test_extension_scoped_to_lists(alice):
    room = create_room(alice)
    alice.put(f"{V3}/user/{quote(alice.user_id)}/rooms/{quote(room)}/account_data/m.x",
              json={"b": 2})
    body = {**all_rooms(), "extensions": {"account_data": {"enabled": True,
                                                           "lists": ["other"], "rooms": []}}}
    assert sss(alice, body)["extensions"]["account_data"]["rooms"] == {}
