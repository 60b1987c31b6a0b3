"""An incremental /sync with nothing new for the user (others write elsewhere on the server) is
answered from the stream listener's record, without reading every stream: its cost is a few
statements whatever the number of rooms. After such an answer, every kind of change written for
the user still arrives through the next incremental sync, from the token it gave."""

from urllib.parse import quote

import pytest

from homeserver.services.streams import notifier, positions as streams
from helpers.api import V3, ok
from helpers.keys import SigningKey, device_keys_for, signed_otk
from helpers.rooms import create_room, invite, join, leave, send_ok
from helpers.sql_counter import sql_statements
from helpers.sync import joined, sync, timeline_ids
from helpers.waiting import wait_until

# A nothing-new incremental sync: the access token, the counter (once: the since token's check
# serves the answer too), to-device acknowledgement, presence, the key counts (one statement).
# The full path reads every stream (about 26 statements with 10 rooms).
QUIET_STATEMENTS = 5


def _listener_caught_up():
    """The listener of this process has heard of every committed position (it hears of a
    commit within milliseconds; a sync that finds it behind takes the full path)."""
    current = streams.current_position()
    assert wait_until(lambda: (notifier.heard() or 0) >= current)


def _quiet_sync(user, since, monkeypatch, busy):
    """Another user writes elsewhere, then ``user`` syncs with ``since``: the answer is empty,
    moves past the other writes, and was built from the listener's record. Its next_batch."""
    busy()
    _listener_caught_up()
    with sql_statements(monkeypatch) as seen:
        body = sync(user, since=since, timeout=0)
    assert len(seen) <= QUIET_STATEMENTS, seen
    assert all(not entries for entries in body["rooms"].values())
    for key in ("account_data", "presence", "to_device"):
        assert body[key] == {"events": []}
    assert "device_lists" not in body
    assert int(body["next_batch"][1:]) >= streams.current_position() > int(since[1:])
    return body, body["next_batch"]


@pytest.fixture
def world(register_user, clock):
    """bob shares a room with alice (and carol); dave writes in a room of his own. The clock
    stands still, so presence is not refreshed in the middle of a counted sync."""
    alice, bob, carol, dave = (register_user(n) for n in ("alice", "bob", "carol", "dave"))
    room = create_room(alice, preset="public_chat")
    for user in (bob, carol):
        join(user, room)
    elsewhere = create_room(dave, preset="public_chat")
    counter = {"n": 0}

    def busy():
        counter["n"] += 1
        send_ok(dave, elsewhere, f"busy {counter['n']}")

    since = sync(bob)["next_batch"]
    return dict(alice=alice, bob=bob, carol=carol, dave=dave, room=room, busy=busy,
                since=since)


def _statements_of_quiet_sync(register_user, monkeypatch, name, rooms, busy):
    owner = register_user(f"{name}-owner")
    user = register_user(name)
    for _ in range(rooms):
        join(user, create_room(owner, preset="public_chat"))
    since = sync(user)["next_batch"]
    busy()
    _listener_caught_up()
    with sql_statements(monkeypatch) as seen:
        body = sync(user, since=since, timeout=0)
    assert all(not entries for entries in body["rooms"].values())
    assert int(body["next_batch"][1:]) > int(since[1:])
    return len(seen)


def test_nothing_new_costs_the_same_few_statements_in_few_or_many_rooms(
        register_user, monkeypatch, clock):
    dave = register_user("dave")
    elsewhere = create_room(dave, preset="public_chat")

    def busy():
        send_ok(dave, elsewhere, "busy")

    few = _statements_of_quiet_sync(register_user, monkeypatch, "few", 2, busy)
    many = _statements_of_quiet_sync(register_user, monkeypatch, "many", 12, busy)
    assert few == many <= QUIET_STATEMENTS


def test_nothing_new_still_sends_the_key_counts_and_they_follow_claims(world, monkeypatch):
    bob, alice = world["bob"], world["alice"]
    key = SigningKey()
    ok(bob.post(f"{V3}/keys/upload", json={
        "device_keys": device_keys_for(bob, key),
        "one_time_keys": {f"signed_curve25519:K{i}": signed_otk(bob, key, f"otk{i}")
                          for i in range(3)},
        "fallback_keys": {"signed_curve25519:F": signed_otk(bob, key, "fb", fallback=True)}}))
    since = sync(bob, since=world["since"])["next_batch"]
    body, since = _quiet_sync(bob, since, monkeypatch, world["busy"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 3}
    assert body["device_unused_fallback_key_types"] == ["signed_curve25519"]
    ok(alice.post(f"{V3}/keys/claim", json={
        "one_time_keys": {bob.user_id: {bob.device_id: "signed_curve25519"}}}))
    body, since = _quiet_sync(bob, since, monkeypatch, world["busy"])
    assert body["device_one_time_keys_count"] == {"signed_curve25519": 2}


def test_a_message_and_its_unread_count_arrive_after_a_nothing_new_answer(world, monkeypatch):
    bob, room = world["bob"], world["room"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    event_id = send_ok(world["alice"], room, "news")
    body = sync(bob, since=since, timeout=0)
    assert timeline_ids(body, room) == [event_id]
    assert joined(body, room)["unread_notifications"]["notification_count"] == 1


def test_a_to_device_message_arrives_after_a_nothing_new_answer_and_is_acknowledged(
        world, monkeypatch):
    bob = world["bob"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    ok(world["alice"].put(f"{V3}/sendToDevice/m.test/t1",
                          json={"messages": {bob.user_id: {bob.device_id: {"n": 1}}}}))
    body = sync(bob, since=since, timeout=0)
    assert [e["content"] for e in body["to_device"]["events"]] == [{"n": 1}]
    # The next sync from that token acknowledges it: never sent again, even from the old token.
    assert sync(bob, since=body["next_batch"], timeout=0)["to_device"]["events"] == []
    assert sync(bob, since=since, timeout=0)["to_device"]["events"] == []


def test_receipts_and_typing_arrive_after_a_nothing_new_answer(world, monkeypatch):
    bob, alice, room = world["bob"], world["alice"], world["room"]
    event_id = send_ok(alice, room, "read me")
    since = sync(bob, since=world["since"])["next_batch"]
    _, since = _quiet_sync(bob, since, monkeypatch, world["busy"])
    ok(alice.post(f"{V3}/rooms/{quote(room)}/receipt/m.read/{quote(event_id)}", json={}))
    body = sync(bob, since=since, timeout=0)
    receipts = [e for e in joined(body, room)["ephemeral"]["events"] if e["type"] == "m.receipt"]
    assert alice.user_id in receipts[0]["content"][event_id]["m.read"]

    _, since = _quiet_sync(bob, body["next_batch"], monkeypatch, world["busy"])
    ok(alice.put(f"{V3}/rooms/{quote(room)}/typing/{quote(alice.user_id)}",
                 json={"typing": True, "timeout": 30000}))
    body = sync(bob, since=since, timeout=0)
    typing = [e for e in joined(body, room)["ephemeral"]["events"] if e["type"] == "m.typing"]
    assert typing[0]["content"]["user_ids"] == [alice.user_id]


def test_account_data_arrives_after_a_nothing_new_answer(world, monkeypatch):
    bob, room = world["bob"], world["room"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    user_path = f"{V3}/user/{quote(bob.user_id)}"
    ok(bob.put(f"{user_path}/account_data/org.example.global", json={"n": 1}))
    ok(bob.put(f"{user_path}/rooms/{quote(room)}/account_data/org.example.room", json={"n": 2}))
    body = sync(bob, since=since, timeout=0)
    assert {"type": "org.example.global", "content": {"n": 1}} in body["account_data"]["events"]
    assert joined(body, room)["account_data"]["events"] == [
        {"type": "org.example.room", "content": {"n": 2}}]


def test_an_invite_and_a_kick_arrive_after_a_nothing_new_answer(world, monkeypatch):
    bob, alice, room = world["bob"], world["alice"], world["room"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    # An invite to a room bob was never in: only the invite names him.
    other = create_room(alice)
    invite(alice, other, bob.user_id)
    body = sync(bob, since=since, timeout=0)
    assert other in body["rooms"]["invite"]

    _, since = _quiet_sync(bob, body["next_batch"], monkeypatch, world["busy"])
    ok(alice.post(f"{V3}/rooms/{quote(room)}/kick", json={"user_id": bob.user_id}))
    body = sync(bob, since=since, timeout=0)
    assert room in body["rooms"]["leave"]

    # Once out of the room, its messages are not his business: quiet again.
    _, since = _quiet_sync(bob, body["next_batch"], monkeypatch,
                           lambda: send_ok(alice, room, "after the kick"))


def test_presence_and_device_lists_arrive_after_a_nothing_new_answer(world, monkeypatch):
    bob, carol, room = world["bob"], world["carol"], world["room"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    ok(carol.put(f"{V3}/presence/{quote(carol.user_id)}/status",
                 json={"presence": "online", "status_msg": "here"}))
    body = sync(bob, since=since, timeout=0)
    assert any(e["sender"] == carol.user_id and e["content"].get("status_msg") == "here"
               for e in body["presence"]["events"])

    _, since = _quiet_sync(bob, body["next_batch"], monkeypatch, world["busy"])
    ok(carol.post(f"{V3}/keys/upload",
                  json={"device_keys": device_keys_for(carol, SigningKey())}))
    body = sync(bob, since=since, timeout=0)
    assert carol.user_id in body["device_lists"]["changed"]

    _, since = _quiet_sync(bob, body["next_batch"], monkeypatch, world["busy"])
    leave(carol, room)
    body = sync(bob, since=since, timeout=0)
    assert carol.user_id in body["device_lists"]["left"]


def test_what_the_sync_itself_writes_arrives_in_its_answer(world, monkeypatch):
    """What a sync writes before its build (here a presence change; to-device batches it
    releases: test_to_device.py) is in its answer, though the counter it read to check the
    since token was read before that write."""
    bob = world["bob"]
    _, since = _quiet_sync(bob, world["since"], monkeypatch, world["busy"])
    body = sync(bob, since=since, timeout=0, set_presence="unavailable")
    assert [e["content"]["presence"] for e in body["presence"]["events"]
            if e["sender"] == bob.user_id] == ["unavailable"]
