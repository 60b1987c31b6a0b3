"""Presence in /sync: the user's own and that of users sharing a room, set_presence on /sync,
changes delivered to incremental syncs, nothing for strangers or with presence off."""

from urllib.parse import quote

import pytest

from sync_support import V3, create_room, join, ok, sync


def presence_of(body):
    return {e["sender"]: e["content"] for e in body["presence"]["events"]}


def set_status(user, state, **extra):
    ok(user.put(f"{V3}/presence/{quote(user.user_id)}/status", json={"presence": state, **extra}))


@pytest.fixture
def pair(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    return alice, bob


def test_syncing_marks_online_and_room_members_see_it(pair):
    alice, bob = pair
    sync(alice)
    seen = presence_of(sync(bob))
    assert seen[alice.user_id]["presence"] == "online"
    assert seen[alice.user_id]["currently_active"] is True
    assert seen[alice.user_id]["displayname"] == "alice"
    assert seen[bob.user_id]["presence"] == "online"


def test_changes_reach_incremental_syncs(pair):
    alice, bob = pair
    first = sync(bob)
    set_status(alice, "unavailable", status_msg="lunch")
    seen = presence_of(sync(bob, since=first["next_batch"]))
    assert seen[alice.user_id]["presence"] == "unavailable"
    assert seen[alice.user_id]["status_msg"] == "lunch"


def test_set_presence_offline_does_not_mark_online(pair):
    alice, bob = pair
    sync(alice, set_presence="offline")
    assert alice.user_id not in presence_of(sync(bob, set_presence="offline"))
    sync(alice, set_presence="unavailable")
    assert presence_of(sync(bob))[alice.user_id]["presence"] == "unavailable"


def test_strangers_see_nothing(pair, register_user):
    alice, bob = pair
    set_status(alice, "online")
    carol = register_user("carol")
    assert alice.user_id not in presence_of(sync(carol))
    # GET follows the same rule; room members may look it up.
    assert ok(bob.get(f"{V3}/presence/{quote(alice.user_id)}/status"))["presence"] == "online"


def test_presence_filter(pair):
    alice, bob = pair
    set_status(alice, "online")
    body = sync(bob, filter={"presence": {"not_types": ["m.presence"]}})
    assert body["presence"]["events"] == []
    body = sync(bob, filter={"presence": {"senders": [alice.user_id]}})
    assert set(presence_of(body)) == {alice.user_id}


def test_presence_disabled(make_app):
    app = make_app(presence={"enabled": False})
    client = app.test_client()
    tokens = {}
    for name in ("dave", "erin"):
        tokens[name] = client.post(f"{V3}/register", json={
            "username": name, "password": "pw-123456", "auth": {"type": "m.login.dummy"}},
        ).get_json()["access_token"]
    headers = {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}
    room_id = client.post(f"{V3}/createRoom", headers=headers["dave"],
                          json={"preset": "public_chat"}).get_json()["room_id"]
    client.post(f"{V3}/join/{quote(room_id)}", headers=headers["erin"], json={})
    client.get(f"{V3}/sync", headers=headers["dave"])
    body = client.get(f"{V3}/sync", headers=headers["erin"]).get_json()
    assert body["presence"]["events"] == []
