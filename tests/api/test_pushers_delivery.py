"""Push delivery to an HTTP push gateway (Push Gateway API POST /_matrix/push/v1/notify): the
payload in both formats, retries with backoff, rejected pushkeys. A small gateway started by
each test records what it receives."""

import time

import pytest

from homeserver import db
from homeserver.models.push import PushDelivery
from helpers.api import V3, ok
from helpers.push_gateway import Gateway
from helpers.rooms import create_room, join, send_ok
from helpers.sql_counter import touching
from helpers.waiting import wait_until


@pytest.fixture
def app(make_app):
    return make_app(push={"allow_http_gateways": True, "ip_range_allowlist": ["127.0.0.1/32"]})


def set_pusher(user, url, pushkey="pk-bob", **data):
    ok(user.post(f"{V3}/pushers/set", json={
        "kind": "http", "app_id": "org.example.app", "pushkey": pushkey,
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": url, **data}}))


@pytest.fixture
def tea_room(register_user):
    """A public room named "Tea room" of alice's that bob has joined: (room_id, alice, bob)."""
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat", name="Tea room")
    join(bob, room_id)
    return room_id, alice, bob


def test_full_format_notification(tea_room, gateway):
    room_id, alice, bob = tea_room
    set_pusher(bob, gateway.url, custom="kept")
    event_id = send_ok(alice, room_id, "hello there")
    received = gateway.wait_for(1)
    assert len(received) == 1 and received[0]["path"] == "/_matrix/push/v1/notify"
    notification = received[0]["body"]["notification"]
    assert notification["event_id"] == event_id and notification["room_id"] == room_id
    # Synapse's deprecated "id" beside event_id, which gateways written against it read.
    assert notification["id"] == event_id
    assert notification["type"] == "m.room.message"
    assert notification["sender"] == alice.user_id
    assert notification["content"]["body"] == "hello there"
    assert notification["room_name"] == "Tea room"
    assert notification["counts"] == {"unread": 1}
    # A two-member room: .m.rule.room_one_to_one sets a sound, so the push is urgent.
    assert notification["prio"] == "high"
    [device] = notification["devices"]
    assert device["app_id"] == "org.example.app" and device["pushkey"] == "pk-bob"
    assert device["data"] == {"custom": "kept"}  # everything but the url is forwarded
    assert device["tweaks"] == {"sound": "default"}
    assert isinstance(device["pushkey_ts"], int)


def test_event_id_only_format(tea_room, gateway):
    room_id, alice, bob = tea_room
    set_pusher(bob, gateway.url, format="event_id_only")
    event_id = send_ok(alice, room_id, "private content")
    notification = gateway.wait_for(1)[0]["body"]["notification"]
    assert set(notification) == {"event_id", "room_id", "counts", "prio", "devices"}
    assert notification["event_id"] == event_id
    assert notification["devices"][0]["data"] == {"format": "event_id_only"}


def test_invite_carries_the_membership(register_user, gateway):
    alice, bob = register_user("alice"), register_user("bob")
    set_pusher(bob, gateway.url)
    room_id = create_room(alice)
    ok(alice.post(f"{V3}/rooms/{room_id}/invite", json={"user_id": bob.user_id}))
    notification = gateway.wait_for(1)[0]["body"]["notification"]
    assert notification["type"] == "m.room.member" and notification["room_id"] == room_id
    assert notification["membership"] == "invite"
    assert notification["user_is_target"] is True


def test_a_room_without_a_name_is_called_by_its_alias(register_user, gateway):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat", room_alias_name="cafe")
    join(bob, room_id)
    set_pusher(bob, gateway.url)
    send_ok(alice, room_id, "hi")
    notification = gateway.wait_for(1)[0]["body"]["notification"]
    assert notification["room_alias"] == notification["room_name"] == "#cafe:localhost:8008"


def test_reading_sends_the_new_badge(tea_room, gateway):
    """A read receipt that lowers the unread count pushes the new count without an event
    (Synapse's badge update); one that changes nothing pushes nothing."""
    room_id, alice, bob = tea_room
    set_pusher(bob, gateway.url)
    event_id = send_ok(alice, room_id, "read me")
    assert gateway.wait_for(1)[0]["body"]["notification"]["counts"] == {"unread": 1}
    ok(bob.post(f"{V3}/rooms/{room_id}/receipt/m.read/{event_id}", json={}))
    badge = gateway.wait_for(2)[1]["body"]["notification"]
    assert badge["counts"] == {"unread": 0}
    assert badge["id"] == "" and "event_id" not in badge
    assert badge["devices"][0]["pushkey"] == "pk-bob"
    # Reading the same event again changes no count: the next push is the next message's.
    ok(bob.post(f"{V3}/rooms/{room_id}/receipt/m.read/{event_id}", json={}))
    later = send_ok(alice, room_id, "later")
    assert gateway.wait_for(3)[2]["body"]["notification"]["event_id"] == later


def test_only_notifying_events_of_others_are_pushed(tea_room, gateway):
    room_id, alice, bob = tea_room
    set_pusher(bob, gateway.url)
    send_ok(bob, room_id, "my own message")
    send_ok(alice, room_id, "beep", msgtype="m.notice")
    last = send_ok(alice, room_id, "a real one")
    # Deliveries go out in the order they were queued: a push for an earlier event would
    # arrive before this one.
    received = gateway.wait_for(1)
    assert received[0]["body"]["notification"]["event_id"] == last


def test_failed_delivery_is_retried(tea_room, gateway):
    room_id, alice, bob = tea_room
    gateway.statuses = [500, 502]
    set_pusher(bob, gateway.url)
    event_id = send_ok(alice, room_id, "try again")
    received = gateway.wait_for(1)
    assert [r["body"]["notification"]["event_id"] for r in received] == [event_id]


def test_gateway_down_then_back(tea_room, gateway):
    room_id, alice, bob = tea_room
    url = gateway.url
    gateway.close()
    set_pusher(bob, url)
    event_id = send_ok(alice, room_id, "queued")
    # At least one attempt fails against the closed port before the gateway comes back.
    assert wait_until(lambda: PushDelivery.select().where(PushDelivery.attempts >= 1).exists())
    port = int(url.split(":")[2].split("/")[0])
    back = Gateway.on_port(port)
    try:
        received = back.wait_for(1)
        assert [r["body"]["notification"]["event_id"] for r in received] == [event_id]
    finally:
        back.close()


def test_rejected_pushkey_removes_the_pusher(tea_room, gateway):
    room_id, alice, bob = tea_room
    gateway.reject = {"pk-bob"}
    set_pusher(bob, gateway.url)
    set_pusher(bob, gateway.url, pushkey="pk-other")
    send_ok(alice, room_id, "hello")
    gateway.wait_for(1)
    assert wait_until(lambda: [p["pushkey"] for p in ok(bob.get(f"{V3}/pushers"))["pushers"]]
                      == ["pk-other"])


def test_events_without_a_pusher_leave_the_dispatcher_asleep(tea_room, gateway, monkeypatch):
    """The dispatcher runs when this process queued a delivery, not on every event: it used to
    query the delivery queue twice per event in every process, with no pusher anywhere."""
    room_id, alice, bob = tea_room
    send_ok(alice, room_id, "the background workers are running")
    database = db.database.obj
    seen: list[str] = []
    original = database.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        seen.append(sql)  # from every thread: the dispatcher's own included
        return original(sql, params, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    for n in range(20):
        send_ok(alice, room_id, f"message {n}")
    time.sleep(0.5)  # a dispatcher woken by these events has queried by now
    monkeypatch.setattr(database, "execute_sql", original)
    # At most one of its rounds every few seconds (claims that ran out): two statements.
    assert len(touching(seen, PushDelivery._meta.table_name)) <= 2
    # And a delivery queued now still goes out at once.
    set_pusher(bob, gateway.url)
    event_id = send_ok(alice, room_id, "now with a pusher")
    assert gateway.wait_for(1)[0]["body"]["notification"]["event_id"] == event_id
