"""Statements per send (each one is a round trip on PostgreSQL, most of them made while the
room is locked): a plain message costs the same in a room of 4 members as in a room of 12 (in both,
members with http pushers and one ignoring the sender), and a few on PostgreSQL (the writes
whose results nobody reads go out together). What clients observe stays whole: unread counts,
the ignoring member's none, the push to each pusher, and a retried txnId's first answer."""

from urllib.parse import quote

import pytest

from homeserver import db
from helpers.api import V3, ok
from helpers.rooms import create_room, join, send, send_ok
from helpers.sql_counter import sql_statements
from helpers.sync import joined, sync

# On PostgreSQL: authenticate, the txnId's first answer, lock the room and read its auth state
# with the members the push hook needs (their pushers, who ignores the sender, the sender's
# presence, the push rules' version; one round trip, BEGIN with it), take the stream position,
# then the writes (COMMIT with them).
MOST_ON_POSTGRES = 5


@pytest.fixture
def app(make_app):
    return make_app(push={"allow_http_gateways": True, "ip_range_allowlist": ["127.0.0.1/32"]})


def _set_pusher(user, url, pushkey):
    ok(user.post(f"{V3}/pushers/set", json={
        "kind": "http", "app_id": "org.example.app", "pushkey": pushkey,
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": url, "format": "event_id_only"}}))


def _room(register_user, gateway, name, count):
    """A room of the sender and ``count`` members: up to three of them with a pusher (the
    first with two), the last ignoring the sender."""
    sender = register_user(f"{name}sender")
    room_id = create_room(sender, preset="public_chat")
    members = [register_user(f"{name}{n}") for n in range(count)]
    for member in members:
        join(member, room_id)
    for n, member in enumerate(members[:min(3, count - 1)]):
        _set_pusher(member, gateway.url, f"{name}-key-{n}")
    _set_pusher(members[0], gateway.url, f"{name}-key-second")
    ignorer = members[-1]
    ok(ignorer.put(f"{V3}/user/{quote(ignorer.user_id)}/account_data/m.ignored_user_list",
                   json={"ignored_users": {sender.user_id: {}}}))
    send_ok(sender, room_id, "first")  # the sender's presence and read position exist
    gateway.wait_for(min(3, count - 1) + 1)
    return sender, room_id, members


def _statements(sender, room_id, monkeypatch, txn):
    with sql_statements(monkeypatch) as seen:
        response = send(sender, room_id, "counted", txn=txn)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["event_id"], list(seen)


def test_send_statements_do_not_grow_with_members(register_user, gateway, monkeypatch):
    small_sender, small_room, _ = _room(register_user, gateway, "s", 3)
    big_sender, big_room, members = _room(register_user, gateway, "b", 11)
    ignorer = members[-1]
    seen_before = len(gateway.wait_for(7))

    _, few = _statements(small_sender, small_room, monkeypatch, "counted-send")
    event_id, many = _statements(big_sender, big_room, monkeypatch, "counted-send")
    assert len(many) == len(few), "\n".join(s[:120] for s in few + ["----"] + many)
    if not db.is_sqlite():
        assert len(many) <= MOST_ON_POSTGRES, many

    # Every pusher of a notified member is pushed the event, once.
    received = [r for r in gateway.wait_for(seen_before + 7)[seen_before:]
                if r["body"]["notification"]["event_id"] == event_id]
    assert sorted(device["pushkey"] for r in received
                  for device in r["body"]["notification"]["devices"]) == \
        ["b-key-0", "b-key-1", "b-key-2", "b-key-second"]
    # Members count both messages; the ignoring member counts none (and gets no timeline).
    assert joined(sync(members[1]), big_room)["unread_notifications"]["notification_count"] == 2
    ignored = joined(sync(ignorer), big_room)
    assert ignored["unread_notifications"]["notification_count"] == 0
    # The sender has read what they sent.
    assert joined(sync(big_sender), big_room)["unread_notifications"]["notification_count"] == 0
    # A retry of the txnId answers the first event and stores nothing.
    retried = send(big_sender, big_room, "counted", txn="counted-send")
    assert retried.get_json() == {"event_id": event_id}
    assert joined(sync(members[1]), big_room)["unread_notifications"]["notification_count"] == 2
