"""Receipts (POST /rooms/{roomId}/receipt/...) and read markers (POST .../read_markers):
m.receipt in the room's ephemeral events, private receipts only to their owner, threads."""

from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import send_ok
from helpers.sync import sync


def receipt_path(room_id, event_id, receipt_type="m.read"):
    return f"{V3}/rooms/{quote(room_id)}/receipt/{receipt_type}/{quote(event_id)}"


def receipts(body, room_id):
    entry = body["rooms"]["join"].get(room_id, {})
    merged = {}
    for event in entry.get("ephemeral", {}).get("events", []):
        if event["type"] == "m.receipt":
            for event_id, types in event["content"].items():
                for receipt_type, users in types.items():
                    for user_id, data in users.items():
                        merged[(event_id, receipt_type, user_id)] = data
    return merged


def test_public_receipt_is_seen_by_everyone(room):
    room_id, alice, bob = room
    event_id = send_ok(alice, room_id, "read me")
    first = sync(alice)
    assert ok(bob.post(receipt_path(room_id, event_id), json={})) == {}
    body = sync(alice, since=first["next_batch"])
    found = receipts(body, room_id)
    assert list(found) == [(event_id, "m.read", bob.user_id)]
    assert isinstance(found[(event_id, "m.read", bob.user_id)]["ts"], int)
    assert (event_id, "m.read", bob.user_id) in receipts(sync(alice), room_id)


def test_private_receipt_only_for_its_owner(room):
    room_id, alice, bob = room
    event_id = send_ok(alice, room_id, "secret read")
    first_alice, first_bob = sync(alice), sync(bob)
    ok(bob.post(receipt_path(room_id, event_id, "m.read.private"), json={}))
    assert receipts(sync(alice, since=first_alice["next_batch"]), room_id) == {}
    assert receipts(sync(alice), room_id) == {}
    assert (event_id, "m.read.private", bob.user_id) in receipts(
        sync(bob, since=first_bob["next_batch"]), room_id)


def test_receipt_moves_and_replaces(room):
    room_id, alice, bob = room
    first = send_ok(alice, room_id, "1")
    second = send_ok(alice, room_id, "2")
    ok(bob.post(receipt_path(room_id, first), json={}))
    ok(bob.post(receipt_path(room_id, second), json={}))
    found = receipts(sync(alice), room_id)
    assert (second, "m.read", bob.user_id) in found
    assert (first, "m.read", bob.user_id) not in found


def test_threaded_receipts(room):
    room_id, alice, bob = room
    root = send_ok(alice, room_id, "root")
    reply = send_ok(alice, room_id, "reply",
                    **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}})
    ok(bob.post(receipt_path(room_id, reply), json={"thread_id": root}))
    ok(bob.post(receipt_path(room_id, root), json={"thread_id": "main"}))
    ok(bob.post(receipt_path(room_id, root), json={}))
    found = receipts(sync(alice), room_id)
    assert found[(reply, "m.read", bob.user_id)]["thread_id"] == root
    assert (root, "m.read", bob.user_id) in found
    # The event must be in the named thread.
    response = bob.post(receipt_path(room_id, root), json={"thread_id": reply})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"
    response = bob.post(receipt_path(room_id, reply), json={"thread_id": "main"})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"


@pytest.mark.parametrize("body", [{"thread_id": ""}, {"thread_id": 5}])
def test_bad_thread_ids(room, body):
    room_id, alice, bob = room
    event_id = send_ok(alice, room_id, "x")
    response = bob.post(receipt_path(room_id, event_id), json=body)
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"


def test_errors(room, register_user):
    room_id, alice, bob = room
    event_id = send_ok(alice, room_id, "x")
    unknown_type = bob.post(receipt_path(room_id, event_id, "m.seen"), json={})
    assert unknown_type.status_code == 400
    assert unknown_type.get_json()["errcode"] == "M_INVALID_PARAM"
    missing = bob.post(receipt_path(room_id, "$nope"), json={})
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"
    carol = register_user("carol")
    outsider = carol.post(receipt_path(room_id, event_id), json={})
    assert outsider.status_code == 403 and outsider.get_json()["errcode"] == "M_FORBIDDEN"
    fully_read_thread = bob.post(receipt_path(room_id, event_id, "m.fully_read"),
                                 json={"thread_id": "main"})
    assert fully_read_thread.status_code == 400
    # An empty body is accepted (clients send none).
    response = bob.post(receipt_path(room_id, event_id))
    assert response.status_code == 200


def fully_read(user, room_id):
    return user.get(f"{V3}/user/{quote(user.user_id)}/rooms/{quote(room_id)}"
                    "/account_data/m.fully_read")


def test_read_markers(room):
    room_id, alice, bob = room
    first = send_ok(alice, room_id, "1")
    second = send_ok(alice, room_id, "2")
    start = sync(bob)
    response = bob.post(f"{V3}/rooms/{quote(room_id)}/read_markers",
                        json={"m.fully_read": second, "m.read": first,
                              "m.read.private": second})
    assert response.status_code == 200 and response.get_json() == {}
    assert ok(fully_read(bob, room_id)) == {"event_id": second}
    body = sync(bob, since=start["next_batch"])
    room_data = body["rooms"]["join"][room_id]["account_data"]["events"]
    assert {"type": "m.fully_read", "content": {"event_id": second}} in room_data
    found = receipts(body, room_id)
    assert (first, "m.read", bob.user_id) in found
    assert (second, "m.read.private", bob.user_id) in found
    # The fully read marker never moves back.
    ok(bob.post(f"{V3}/rooms/{quote(room_id)}/read_markers", json={"m.fully_read": first}))
    assert ok(fully_read(bob, room_id)) == {"event_id": second}


def test_fully_read_through_the_receipt_endpoint(room):
    room_id, alice, bob = room
    event_id = send_ok(alice, room_id, "x")
    ok(bob.post(receipt_path(room_id, event_id, "m.fully_read"), json={}))
    assert ok(fully_read(bob, room_id)) == {"event_id": event_id}
    # m.fully_read is no receipt.
    assert receipts(sync(alice), room_id) == {}


def test_read_marker_errors(room):
    room_id, alice, bob = room
    path = f"{V3}/rooms/{quote(room_id)}/read_markers"
    bad = bob.post(path, json={"m.fully_read": 5})
    assert bad.status_code == 400 and bad.get_json()["errcode"] == "M_BAD_JSON"
    missing = bob.post(path, json={"m.fully_read": "$unknown"})
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"
