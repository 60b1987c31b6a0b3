"""Attack (on integrity): txnId records never expired and outlived their device. A client that
logs out and logs in again with the same device ID (many do: they keep it) and counts its
txnIds from 0 again got the old device's event IDs back for new messages, which were silently
never sent. The same happened to any txnId reused long after. Records now go with their device
(logout, device deletion) and expire after ``requests.txn_id_lifetime_ms``."""

from helpers.api import V3, ok, q
from helpers.rooms import create_room
from helpers.accounts import password_auth
from helpers.user_handle import UserHandle

from homeserver.models.rooms import EventTransaction
from homeserver.services.policy import txn_ids

PASSWORD = "correct horse battery"


def login(client, device_id="PHONE"):
    body = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "password": PASSWORD, "device_id": device_id,
        "identifier": {"type": "m.id.user", "user": "alice"}}))
    return UserHandle(client, body["user_id"], body["access_token"], body["device_id"], PASSWORD)


def send(user, room_id, txn, body):
    return ok(user.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/{txn}",
                       json={"msgtype": "m.text", "body": body}))["event_id"]


def body_of(user, room_id, event_id):
    return ok(user.get(f"{V3}/rooms/{q(room_id)}/event/{q(event_id)}"))["content"]["body"]


def test_txn_ids_die_with_their_device_on_logout(client, register_user):
    register_user("alice", password=PASSWORD)
    alice = login(client)
    room_id = create_room(alice)
    old = send(alice, room_id, "0", "before logout")
    ok(alice.post(f"{V3}/logout", json={}))
    alice = login(client)
    new = send(alice, room_id, "0", "after login")
    assert new != old
    assert body_of(alice, room_id, new) == "after login"
    # Within the new device's life the txnId is idempotent again.
    assert send(alice, room_id, "0", "retry") == new


def test_txn_ids_die_with_a_deleted_device(client, register_user):
    register_user("alice", password=PASSWORD)
    alice = login(client)
    other = login(client, "LAPTOP")
    room_id = create_room(alice)
    old = send(alice, room_id, "0", "first")
    to_device = {"messages": {other.user_id: {"LAPTOP": {"n": 1}}}}
    ok(alice.put(f"{V3}/sendToDevice/m.test/0", json=to_device))
    first = other.post(f"{V3}/delete_devices", json={"devices": ["PHONE"]})
    session = first.get_json()["session"]
    ok(other.post(f"{V3}/delete_devices", json={
        "devices": ["PHONE"], "auth": password_auth("alice", PASSWORD, session)}))
    assert not EventTransaction.select().where(EventTransaction.device_id == "PHONE").exists()
    alice = login(client)
    assert send(alice, room_id, "0", "second") != old
    ok(other.get(f"{V3}/sync"))
    # The to-device txnId of the old device no longer swallows a new message.
    since = ok(other.get(f"{V3}/sync"))["next_batch"]
    ok(alice.put(f"{V3}/sendToDevice/m.test/0", json=to_device))
    events = ok(other.get(f"{V3}/sync?since={since}"))["to_device"]["events"]
    assert [e["content"] for e in events] == [{"n": 1}]


def test_txn_ids_expire(make_app, clock):
    app = make_app(requests={"txn_id_lifetime_ms": 3600 * 1000})
    client = app.test_client()
    ok(client.post(f"{V3}/register", json={"username": "alice", "password": PASSWORD,
                                           "auth": {"type": "m.login.dummy"}}))
    alice = login(client)
    room_id = create_room(alice)
    first = send(alice, room_id, "0", "first")
    clock.advance(3599 * 1000)
    assert send(alice, room_id, "0", "retry") == first
    clock.advance(2 * 1000)
    second = send(alice, room_id, "0", "an hour later")
    assert second != first and body_of(alice, room_id, second) == "an hour later"
    # The sweep deletes whatever ran out, for every device.
    send(alice, room_id, "1", "other")
    assert EventTransaction.select().count() == 2
    clock.advance(3601 * 1000)
    txn_ids.delete_expired()
    assert EventTransaction.select().count() == 0
