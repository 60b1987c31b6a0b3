"""A login that creates a device changes the user's device list at once, as in Synapse (SyTest
41end-to-end-keys/06-device-lists.pl "Local new device changes appear in v2 /sync", "Users
receive device_list updates for their own devices"); logging in again to the same device does
not."""

from helpers.api import V3
from helpers.rooms import create_room, join


def sync(user, since=None):
    response = user.get(f"{V3}/sync?timeout=0" + (f"&since={since}" if since else ""))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def changed(body):
    return set(body.get("device_lists", {}).get("changed", []))


def login(client, user, device_id):
    response = client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user.user_id},
        "password": user.password, "device_id": device_id})
    assert response.status_code == 200, response.get_json()


def test_new_login_shows_in_device_lists(client, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    alice_since = sync(alice)["next_batch"]
    bob_since = sync(bob)["next_batch"]
    login(client, bob, "NEWDEVICE")
    assert bob.user_id in changed(sync(alice, alice_since))
    own = sync(bob, bob_since)
    assert bob.user_id in changed(own)
    # The same device again: nothing changed.
    again_since = own["next_batch"]
    alice_since = sync(alice)["next_batch"]
    login(client, bob, "NEWDEVICE")
    assert bob.user_id not in changed(sync(alice, alice_since))
    assert bob.user_id not in changed(sync(bob, again_since))
