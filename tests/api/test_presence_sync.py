"""Presence in /sync: the user's own and that of users sharing a room, set_presence on /sync,
changes delivered to incremental syncs, nothing for strangers or with presence off."""

import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, join
from helpers.sync import sync, sync_path


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


def test_presence_arrives_when_a_room_is_first_shared(register_user):
    alice, bob, carol = (register_user(name) for name in ("alice", "bob", "carol"))
    set_status(alice, "unavailable", status_msg="away")
    set_status(carol, "online", status_msg="here")
    room = create_room(alice, preset="public_chat")
    since = sync(bob, set_presence="offline")["next_batch"]
    # Bob joins alice's room: her presence (set long before) is in his next sync.
    join(bob, room)
    body = sync(bob, since=since, set_presence="offline")
    assert presence_of(body)[alice.user_id]["status_msg"] == "away"
    # Carol joins a room bob is in: her presence comes to him, and his to her.
    sync(bob)  # bob online
    since = body["next_batch"]
    carol_since = sync(carol)["next_batch"]
    join(carol, room)
    seen = presence_of(sync(bob, since=since))
    assert seen[carol.user_id]["presence"] == "online"
    assert seen[carol.user_id]["status_msg"] == "here"
    theirs = presence_of(sync(carol, since=carol_since))
    assert theirs[bob.user_id]["presence"] == "online"
    assert theirs[alice.user_id]["status_msg"] == "away"
    # Only once: a later sync without changes does not repeat them.
    again = sync(bob, since=sync(bob)["next_batch"])
    assert carol.user_id not in presence_of(again)


def test_newcomer_never_online_is_sent_offline(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="public_chat")
    since = sync(alice, set_presence="offline")["next_batch"]
    join(bob, room)  # bob has never synced: no presence of his is known
    seen = presence_of(sync(alice, since=since, set_presence="offline"))
    assert seen[bob.user_id]["presence"] == "offline"



def test_a_client_syncing_every_half_minute_stays_online(pair, clock):
    """Refreshes of last_seen_ts are written behind the syncs; the stored time never lags so
    far that the expiry sweep takes a connected client for offline."""
    from homeserver.services.ephemeral import presence

    alice, bob = pair
    sync(alice)
    for _ in range(12):  # six minutes of 30 s long-polls
        clock.advance(30_000)
        sync(alice)
        presence.expire_due()
        assert presence.get_presence(bob.user_id, alice.user_id)["presence"] != "offline"
    clock.advance(61_000)  # alice's client went away
    presence.expire_due()
    assert presence.get_presence(bob.user_id, alice.user_id)["presence"] == "offline"


def test_refreshes_of_many_idle_clients_take_one_write(register_user, clock, monkeypatch):
    """Idle clients re-polling only refresh when they were last seen: one write transaction
    for all of them, not one each (each waited for SQLite's single writer)."""
    from homeserver import db
    from helpers.sql_counter import sql_statements

    from homeserver.services.ephemeral import presence

    monkeypatch.setattr(presence._seen, "_flushed_at", None)  # no earlier test's flush
    users = [register_user(f"idle{n}") for n in range(6)]
    for user in users:
        sync(user)
    clock.advance(11_000)
    sync(users[0])  # the first refresh after a quiet interval is written at once
    with sql_statements(monkeypatch) as statements:
        for user in users[1:]:
            sync(user)
    refreshes = [sql for sql in statements if "last_seen_ts" in sql and "UPDATE" in sql]
    assert refreshes == []
    clock.advance(11_000)
    with sql_statements(monkeypatch) as statements:
        sync(users[0])
    refreshes = [sql for sql in statements if "last_seen_ts" in sql and "UPDATE" in sql]
    assert len(refreshes) == 6  # everyone's time, in one transaction
    with db.database.obj.connection_context():
        from homeserver.models.presence import Presence
        stored = {row.user_id: row.last_seen_ts for row in Presence.select()}
    assert all(stored[user.user_id] >= clock.now - 11_000 for user in users)


def _hold_long_poll(user, **params):
    """A /sync long-poll of ``user`` waiting in a thread; returns the thread (it ends when
    something concerning the user is written)."""
    from homeserver.services.streams.long_polls import registry

    since = sync(user, timeout=0, **params)["next_batch"]
    client = user.client.application.test_client()
    thread = threading.Thread(target=lambda: client.get(
        sync_path(since=since, timeout=60_000, **params), headers=user.headers))
    thread.start()
    deadline = time.monotonic() + 10
    while registry.waiting(user.user_id) == 0:
        assert time.monotonic() < deadline, "the long-poll never started waiting"
        time.sleep(0.01)
    return thread


def _end_long_poll(user, thread):
    ok(user.put(f"{V3}/user/{quote(user.user_id)}/account_data/x.wake", json={}))
    thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize("set_presence, shown", [(None, "online"), ("offline", "offline")])
def test_a_client_holding_a_long_poll_stays_online(pair, clock, set_presence, shown):
    """A client whose /sync waits past offline_after_ms is still connected: the sweep must not
    show it offline (under load a poll can wait, or wait to be answered, that long); a sync
    with set_presence=offline does not count."""
    from homeserver.services.ephemeral import presence

    alice, bob = pair
    sync(alice)  # online
    thread = _hold_long_poll(alice, **({"set_presence": set_presence} if set_presence else {}))
    try:
        clock.advance(61_000)
        presence.expire_due()
        assert presence.get_presence(bob.user_id, alice.user_id)["presence"] == shown
    finally:
        _end_long_poll(alice, thread)


def test_sweep_keeps_a_return_committed_while_it_waited_for_its_turn(pair, clock, monkeypatch):
    """The sweep reads who is due, then waits for the writer's turn; a sync of another
    process that brings the user back meanwhile must not be overwritten with offline."""
    from homeserver.services.ephemeral import presence

    alice, bob = pair
    sync(alice)
    clock.advance(61_000)
    real_transaction, raced = presence.write_transaction, []

    @contextmanager
    def transaction_after_a_return():
        if not raced:
            raced.append(True)
            presence.on_sync(alice.user_id, None)  # alice's client is back, in another worker
        with real_transaction() as txn:
            yield txn

    monkeypatch.setattr(presence, "write_transaction", transaction_after_a_return)
    presence.expire_due()
    assert raced
    assert presence.get_presence(bob.user_id, alice.user_id)["presence"] == "online"
