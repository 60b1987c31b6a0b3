"""Device-list tracking: device_lists.changed/left in /sync and GET /keys/changes, the key
counts every sync carries, and what deleting a device leaves behind."""

from helpers.keys import (V3, SigningKey, cross_signing_key, device_keys_for, make_user,
                          new_device, signed_otk)


def sync(user, since=None):
    url = f"{V3}/sync?timeout=0" + (f"&since={since}" if since else "")
    response = user.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def device_lists(body):
    lists = body.get("device_lists", {})
    return set(lists.get("changed", [])), set(lists.get("left", []))


def public_room(user):
    response = user.post(f"{V3}/createRoom", json={"preset": "public_chat"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["room_id"]


def join(user, room_id):
    response = user.post(f"{V3}/rooms/{room_id}/join", json={})
    assert response.status_code == 200, response.get_json()


def leave(user, room_id):
    response = user.post(f"{V3}/rooms/{room_id}/leave", json={})
    assert response.status_code == 200, response.get_json()


def upload_device_keys(handle):
    response = handle.post(f"{V3}/keys/upload",
                           json={"device_keys": device_keys_for(handle, SigningKey())})
    assert response.status_code == 200, response.get_json()


def test_key_counts_on_every_sync(client):
    alice = make_user(client, "alice", "A1")
    body = sync(alice)
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 0}
    assert body["device_unused_fallback_key_types"] == []
    assert "device_lists" not in body  # only on incremental syncs
    key = SigningKey()
    alice.post(f"{V3}/keys/upload", json={
        "one_time_keys": {"signed_curve25519:1": signed_otk(alice, key, "k1")},
        "fallback_keys": {"signed_curve25519:F": signed_otk(alice, key, "f", fallback=True)}})
    body = sync(alice, body["next_batch"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 1}
    assert body["device_unused_fallback_key_types"] == ["signed_curve25519"]
    request = {"one_time_keys": {alice.user_id: {"A1": "signed_curve25519"}}}
    alice.post(f"{V3}/keys/claim", json=request)
    alice.post(f"{V3}/keys/claim", json=request)  # the fallback key now
    body = sync(alice, body["next_batch"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 0}
    assert body["device_unused_fallback_key_types"] == []


def test_new_device_keys_show_to_room_members_only(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    eve = make_user(client, "eve", "E1")
    room = public_room(alice)
    join(bob, room)
    bob_since = sync(bob)["next_batch"]
    eve_since = sync(eve)["next_batch"]

    laptop = new_device(client, alice.user_id, "A2")
    upload_device_keys(laptop)
    changed, left = device_lists(sync(bob, bob_since))
    assert alice.user_id in changed and not left
    changed, _ = device_lists(sync(eve, eve_since))
    assert alice.user_id not in changed

    response = bob.get(f"{V3}/keys/changes?from={bob_since}&to={sync(bob)['next_batch']}")
    assert response.status_code == 200
    assert alice.user_id in response.get_json()["changed"]


def test_keys_with_a_bad_self_signature_still_announce_the_device(client):
    """Issue 11: refusing such keys (M_INVALID_SIGNATURE) also kept the device out of its
    contacts' device lists; they are stored, and the change reaches the room's members."""
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    join(bob, public_room(alice))
    since = sync(bob)["next_batch"]
    laptop = new_device(client, alice.user_id, "A2")
    keys = device_keys_for(laptop, SigningKey())
    keys["algorithms"].append("m.tampered")  # after signing: the self-signature is now wrong
    response = laptop.post(f"{V3}/keys/upload", json={"device_keys": keys})
    assert response.status_code == 200, response.get_json()
    assert alice.user_id in device_lists(sync(bob, since))[0]


def test_cross_signing_change_is_announced(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    room = public_room(alice)
    join(bob, room)
    since = sync(bob)["next_batch"]
    alice.post(f"{V3}/keys/device_signing/upload", json={
        "master_key": cross_signing_key(alice.user_id, "master", SigningKey())})
    assert alice.user_id in device_lists(sync(bob, since))[0]


def test_join_and_leave_of_shared_rooms(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    room = public_room(alice)
    since = sync(alice)["next_batch"]
    join(bob, room)
    body = sync(alice, since)
    assert bob.user_id in device_lists(body)[0]
    since = body["next_batch"]
    leave(bob, room)
    body = sync(alice, since)
    changed, left = device_lists(body)
    assert bob.user_id in left and bob.user_id not in changed

    response = alice.get(f"{V3}/keys/changes?from={since}&to={body['next_batch']}")
    assert bob.user_id in response.get_json()["left"]


def test_still_sharing_another_room_is_not_left(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    first, second = public_room(alice), public_room(alice)
    join(bob, first)
    join(bob, second)
    since = sync(alice)["next_batch"]
    leave(bob, first)
    assert bob.user_id not in device_lists(sync(alice, since))[1]


def test_own_join_reports_the_rooms_members(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    room = public_room(alice)
    since = sync(bob)["next_batch"]
    join(bob, room)
    assert alice.user_id in device_lists(sync(bob, since))[0]


def test_keys_changes_validates_tokens(client):
    alice = make_user(client, "alice", "A1")
    for query in ("from=s0", "to=s0", "from=garbage&to=s0"):
        response = alice.get(f"{V3}/keys/changes?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["errcode"] in ("M_MISSING_PARAM", "M_INVALID_PARAM")


def test_deleting_a_device_removes_its_keys_and_messages(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    room = public_room(alice)
    join(bob, room)
    laptop = new_device(client, alice.user_id, "A2")
    upload_device_keys(laptop)
    key = SigningKey()
    laptop.post(f"{V3}/keys/upload", json={
        "one_time_keys": {"signed_curve25519:1": signed_otk(laptop, key, "k1")}})
    bob.put(f"{V3}/sendToDevice/m.test/t1", json={"messages": {alice.user_id: {"A2": {}}}})
    since = sync(bob)["next_batch"]

    response = alice.delete(f"{V3}/devices/A2", json={"auth": {
        "type": "m.login.password", "password": alice.password,
        "identifier": {"type": "m.id.user", "user": alice.user_id}}})
    if response.status_code == 401:
        session = response.get_json()["session"]
        response = alice.delete(f"{V3}/devices/A2", json={"auth": {
            "type": "m.login.password", "password": alice.password, "session": session,
            "identifier": {"type": "m.id.user", "user": alice.user_id}}})
    assert response.status_code == 200, response.get_json()

    assert alice.user_id in device_lists(sync(bob, since))[0]
    keys = bob.post(f"{V3}/keys/query", json={"device_keys": {alice.user_id: []}}).get_json()
    assert "A2" not in keys["device_keys"][alice.user_id]
    claimed = bob.post(f"{V3}/keys/claim", json={
        "one_time_keys": {alice.user_id: {"A2": "signed_curve25519"}}}).get_json()
    assert claimed["one_time_keys"] == {}
    # A device that comes back with the same ID starts with nothing pending.
    again = new_device(client, alice.user_id, "A2")
    assert sync(again).get("to_device", {}).get("events", []) == []


def test_own_leave_reports_former_room_mates_as_left(client):
    alice = make_user(client, "alice", "A1")
    bob = make_user(client, "bob", "B1")
    carol = make_user(client, "carol", "C1")
    room = public_room(alice)
    other = public_room(carol)
    join(bob, room)
    join(bob, other)
    join(carol, room)
    since = sync(bob)["next_batch"]
    leave(bob, room)
    changed, left = device_lists(sync(bob, since))
    # alice shares nothing with bob any more; carol still shares `other`.
    assert left == {alice.user_id}
    assert not changed & {alice.user_id, carol.user_id}
