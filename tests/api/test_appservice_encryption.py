"""What encrypting bridges get in their transactions (MSC2409: ephemeral events and to-device
messages; MSC3202: device lists, one-time-key counts, unused fallback key types), to a service
run by the test on 127.0.0.1, and what services without the flags do not get."""

import pytest

from helpers.api import V3, ok
from helpers.appservice import (SERVER, as_headers, fake_service,  # noqa: F401
                                register_user_on, service_app)
from helpers.keys import SigningKey, device_keys_for, signed_otk
from helpers.rooms import create_room, send_ok
from helpers.user_handle import UserHandle

GHOST = f"@_bridge_ghost:{SERVER}"
TO_DEVICE = "de.sorunome.msc2409.to_device"
DEVICE_LISTS = "org.matrix.msc3202.device_lists"
OTK_COUNTS = "org.matrix.msc3202.device_one_time_keys_count"
FALLBACK_TYPES = "org.matrix.msc3202.device_unused_fallback_key_types"


def ghost_device(client, device_id="GHOSTDEV") -> UserHandle:
    """The ghost, registered by the service, logged in (m.login.application_service) on a
    device, as mautrix logs in its bot in appservice encryption mode."""
    ok(client.post(f"{V3}/register", headers=as_headers(),
                   json={"type": "m.login.application_service", "username": "_bridge_ghost",
                         "inhibit_login": True}))
    login = ok(client.post(f"{V3}/login", headers=as_headers(), json={
        "type": "m.login.application_service", "device_id": device_id,
        "identifier": {"type": "m.id.user", "user": GHOST}}))
    return UserHandle(client, GHOST, login["access_token"], login["device_id"], None)


def room_with(alice, ghost, client):
    room_id = create_room(alice, preset="public_chat")
    ok(alice.post(f"{V3}/rooms/{room_id}/invite", json={"user_id": ghost.user_id}))
    ok(client.post(f"{V3}/join/{room_id}?user_id={ghost.user_id}", headers=as_headers(),
                   json={}))
    return room_id


def bodies(service) -> list[dict]:
    with service.arrived:
        return [t["body"] for t in service.transactions]


def field_values(service, name) -> list:
    return [value for body in bodies(service) for value in body.get(name, [])]


ENCRYPTED_BRIDGE = {"receive_ephemeral": True, "org.matrix.msc3202": True}


def test_to_device_messages_for_namespace_devices_are_pushed_in_order(service_app,
                                                                      fake_service):  # noqa: F811
    client = service_app(**ENCRYPTED_BRIDGE).test_client()
    ghost = ghost_device(client)
    alice = register_user_on(client, "alice")
    # More than one /sync batch (100) of messages: those queued behind the first batch follow.
    for n in range(130):
        ok(alice.put(f"{V3}/sendToDevice/m.test/t{n}", json={
            "messages": {GHOST: {ghost.device_id: {"n": n}}}}))
    assert fake_service.wait_for(lambda s: len(field_values(s, TO_DEVICE)) >= 130)
    messages = field_values(fake_service, TO_DEVICE)
    assert [m["content"]["n"] for m in messages] == list(range(130))
    assert all(m["type"] == "m.test" and m["sender"] == alice.user_id
               and m["to_user_id"] == GHOST and m["to_device_id"] == "GHOSTDEV"
               for m in messages)
    # Delivered to the service, they left the device's queue: a later one comes alone.
    ok(alice.put(f"{V3}/sendToDevice/m.test/last", json={
        "messages": {GHOST: {"*": {"n": "last"}}}}))
    assert fake_service.wait_for(lambda s: len(field_values(s, TO_DEVICE)) >= 131)
    assert [m["content"]["n"] for m in field_values(fake_service, TO_DEVICE)][130:] == ["last"]


def test_to_device_messages_of_other_users_are_not_pushed(service_app,
                                                          fake_service):  # noqa: F811
    client = service_app(**ENCRYPTED_BRIDGE).test_client()
    ghost = ghost_device(client)
    alice, bob = register_user_on(client, "alice"), register_user_on(client, "bob")
    ok(alice.put(f"{V3}/sendToDevice/m.test/bob", json={
        "messages": {bob.user_id: {bob.device_id: {"for": "bob"}}}}))
    ok(alice.put(f"{V3}/sendToDevice/m.test/ghost", json={
        "messages": {GHOST: {ghost.device_id: {"for": "ghost"}}}}))
    assert fake_service.wait_for(lambda s: field_values(s, TO_DEVICE))
    assert [m["content"] for m in field_values(fake_service, TO_DEVICE)] == [{"for": "ghost"}]
    # bob's own device still gets his.
    sync = ok(bob.get(f"{V3}/sync"))
    assert [e["content"] for e in sync["to_device"]["events"]] == [{"for": "bob"}]


@pytest.mark.parametrize("flags", [{"org.matrix.msc3202": True}, {"receive_ephemeral": True}],
                         ids=["msc3202-only", "ephemeral-only"])
def test_to_device_stays_with_the_device_without_both_flags(service_app, fake_service,  # noqa: F811
                                                            flags):
    # mautrix's default: ephemeral events, and a bot that syncs for its to-device messages.
    client = service_app(**flags).test_client()
    ghost = ghost_device(client)
    alice = register_user_on(client, "alice")
    room_id = room_with(alice, ghost, client)
    ok(alice.put(f"{V3}/sendToDevice/m.test/t", json={
        "messages": {GHOST: {ghost.device_id: {"n": 1}}}}))
    marker = send_ok(alice, room_id, "marker")
    assert fake_service.wait_for(
        lambda s: marker in [e["event_id"] for b in bodies(s) for e in b["events"]])
    assert not any(TO_DEVICE in body for body in bodies(fake_service))
    # Still queued for the ghost's device, which gets it from its own /sync.
    sync = ok(ghost.get(f"{V3}/sync"))
    assert [e["content"] for e in sync["to_device"]["events"]] == [{"n": 1}]


def upload_keys(handle, key, otks=3, fallback=True):
    body = {"device_keys": device_keys_for(handle, key),
            "one_time_keys": {f"signed_curve25519:K{n}": signed_otk(handle, key, f"otk{n}")
                              for n in range(otks)}}
    if fallback:
        body["fallback_keys"] = {"signed_curve25519:F1": signed_otk(handle, key, "fb",
                                                                    fallback=True)}
    ok(handle.post(f"{V3}/keys/upload", json=body))


def test_msc3202_device_lists_and_key_counts(service_app, fake_service):  # noqa: F811
    client = service_app(**{"org.matrix.msc3202": True}).test_client()
    ghost = ghost_device(client)
    alice = register_user_on(client, "alice")
    room_with(alice, ghost, client)
    # The ghost's device uploads its keys (masquerading as that device with the as_token).
    ok(client.post(f"{V3}/keys/upload?user_id={GHOST}&org.matrix.msc3202.device_id=GHOSTDEV",
                   headers=as_headers(), json={
                       "device_keys": device_keys_for(ghost, key := SigningKey()),
                       "one_time_keys": {f"signed_curve25519:K{n}":
                                         signed_otk(ghost, key, f"otk{n}") for n in range(3)},
                       "fallback_keys": {"signed_curve25519:F1":
                                         signed_otk(ghost, key, "fb", fallback=True)}}))
    assert fake_service.wait_for(
        lambda s: any(GHOST in b.get(OTK_COUNTS, {}) for b in bodies(s)))
    body = next(b for b in bodies(fake_service) if GHOST in b.get(OTK_COUNTS, {}))
    assert body[OTK_COUNTS][GHOST]["GHOSTDEV"]["signed_curve25519"] == 3
    assert body[FALLBACK_TYPES][GHOST]["GHOSTDEV"] == ["signed_curve25519"]
    # alice, sharing a room with the ghost, changes her devices: the service hears of it.
    upload_keys(alice, SigningKey(), otks=0, fallback=False)
    assert fake_service.wait_for(
        lambda s: any(alice.user_id in b.get(DEVICE_LISTS, {}).get("changed", [])
                      for b in bodies(s)))
    # Someone sharing no room with the service's users: not its business.
    carol = register_user_on(client, "carol")
    upload_keys(carol, SigningKey(), otks=0, fallback=False)
    marker = send_ok(alice, create_room(alice), "after carol")  # a room without the ghost
    upload_keys(alice, SigningKey(), otks=0, fallback=False)
    assert fake_service.wait_for(
        lambda s: sum(alice.user_id in b.get(DEVICE_LISTS, {}).get("changed", [])
                      for b in bodies(s)) >= 2)
    changed = [u for b in bodies(fake_service) for u in b.get(DEVICE_LISTS, {}).get("changed", [])]
    assert carol.user_id not in changed
    assert marker not in [e["event_id"] for b in bodies(fake_service) for e in b["events"]]


def test_no_msc3202_fields_without_the_flag(service_app, fake_service):  # noqa: F811
    client = service_app(receive_ephemeral=True).test_client()
    ghost = ghost_device(client)
    alice = register_user_on(client, "alice")
    room_id = room_with(alice, ghost, client)
    upload_keys(ghost, SigningKey())
    upload_keys(alice, SigningKey(), otks=0, fallback=False)
    marker = send_ok(alice, room_id, "marker")
    assert fake_service.wait_for(
        lambda s: marker in [e["event_id"] for b in bodies(s) for e in b["events"]])
    assert not any(name in body for body in bodies(fake_service)
                   for name in (DEVICE_LISTS, OTK_COUNTS, FALLBACK_TYPES))


def test_typing_receipts_and_presence_are_pushed_with_receive_ephemeral(service_app,
                                                                       fake_service):  # noqa: F811
    client = service_app(receive_ephemeral=True).test_client()
    ghost = ghost_device(client)
    alice, bob = register_user_on(client, "alice"), register_user_on(client, "bob")
    room_id = room_with(alice, ghost, client)
    ok(bob.put(f"{V3}/presence/{bob.user_id}/status", json={"presence": "online"}))
    ok(alice.put(f"{V3}/rooms/{room_id}/typing/{alice.user_id}",
                 json={"typing": True, "timeout": 30000}))
    event_id = send_ok(alice, room_id, "read me")
    ok(ghost.post(f"{V3}/rooms/{room_id}/receipt/m.read/{event_id}", json={}))
    ok(alice.put(f"{V3}/presence/{alice.user_id}/status",
                 json={"presence": "online", "status_msg": "bridging"}))

    def edus(service):
        return field_values(service, "ephemeral")

    def seen(service):
        types = {e["type"] for e in edus(service)}
        return {"m.typing", "m.receipt", "m.presence"} <= types

    assert fake_service.wait_for(seen)
    typing = next(e for e in edus(fake_service) if e["type"] == "m.typing")
    assert typing["room_id"] == room_id and alice.user_id in typing["content"]["user_ids"]
    receipt = next(e for e in edus(fake_service) if e["type"] == "m.receipt")
    assert receipt["room_id"] == room_id
    assert GHOST in receipt["content"][event_id]["m.read"]
    presence = [e for e in edus(fake_service) if e["type"] == "m.presence"]
    assert any(e["sender"] == alice.user_id and e["content"]["presence"] == "online"
               and e["content"].get("status_msg") == "bridging" for e in presence)
    # bob shares no room with the service's users.
    assert bob.user_id not in {e["sender"] for e in presence}
    # The unstable name of the same list, which bridges still read.
    assert all(b.get("de.sorunome.msc2409.ephemeral") == b["ephemeral"]
               for b in bodies(fake_service))


def register_ghost(client):
    ok(client.post(f"{V3}/register", headers=as_headers(),
                   json={"type": "m.login.application_service", "username": "_bridge_ghost",
                         "inhibit_login": True}))


def test_msc4190_service_creates_and_deletes_devices(service_app):
    client = service_app(**{"io.element.msc4190": True}).test_client()
    register_ghost(client)
    path = f"{V3}/devices/BRIDGEDEV?user_id={GHOST}"
    created = client.put(path, headers=as_headers(), json={"display_name": "Bridge"})
    assert created.status_code == 201, created.get_json()
    again = client.put(path, headers=as_headers(), json={"display_name": "Renamed"})
    assert again.status_code == 200
    listed = ok(client.get(f"{V3}/devices?user_id={GHOST}", headers=as_headers()))["devices"]
    assert [(d["device_id"], d["display_name"]) for d in listed] == [("BRIDGEDEV", "Renamed")]
    # The service acts as that device (device masquerading): keys upload to it.
    who = ok(client.get(f"{V3}/account/whoami?user_id={GHOST}&device_id=BRIDGEDEV",
                        headers=as_headers()))
    assert who["device_id"] == "BRIDGEDEV"
    ghost = UserHandle(client, GHOST, None, "BRIDGEDEV", None)
    ok(client.post(f"{V3}/keys/upload?user_id={GHOST}&org.matrix.msc3202.device_id=BRIDGEDEV",
                   headers=as_headers(), json={"device_keys": device_keys_for(ghost, SigningKey())}))
    # Deleting needs no user-interactive auth.
    ok(client.delete(path, headers=as_headers(), json={}))
    assert ok(client.get(f"{V3}/devices?user_id={GHOST}", headers=as_headers()))["devices"] == []
    gone = client.get(f"{V3}/account/whoami?user_id={GHOST}&device_id=BRIDGEDEV",
                      headers=as_headers())
    assert gone.status_code == 400 and gone.get_json()["errcode"] == "M_UNKNOWN_DEVICE"


def test_without_msc4190_a_service_cannot_create_devices(service_app):
    client = service_app().test_client()
    register_ghost(client)
    response = client.put(f"{V3}/devices/BRIDGEDEV?user_id={GHOST}", headers=as_headers(),
                          json={"display_name": "Bridge"})
    assert response.status_code == 404 and response.get_json()["errcode"] == "M_NOT_FOUND"
    assert ok(client.get(f"{V3}/devices?user_id={GHOST}", headers=as_headers()))["devices"] == []
