"""PUT /rooms/{roomId}/redact/{eventId}/{txnId}: permissions, the version's algorithm, and
redacted events served with unsigned.redacted_because."""

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import (create_room, get_event, put_state_ok, redact, room_with_members, send_ok,
                           state_map)


@pytest.mark.parametrize("version", ["1", "3", "10", "11", "12"])
def test_redact_own_message(register_user, version):
    alice = register_user("alice")
    room_id = create_room(alice, room_version=version)
    target = send_ok(alice, room_id, "regret", format="org.matrix.custom.html")
    redaction = ok(redact(alice, room_id, target, reason="typo"))["event_id"]
    event = ok(get_event(alice, room_id, target))
    assert event["content"] == {}
    because = event["unsigned"]["redacted_because"]
    assert because["event_id"] == redaction and because["type"] == "m.room.redaction"
    assert because["redacts"] == target and because["content"]["reason"] == "typo"
    assert because["sender"] == alice.user_id
    redaction_event = ok(get_event(alice, room_id, redaction))
    assert redaction_event["redacts"] == target
    assert redaction_event["content"]["redacts"] == target  # both places, whatever the version


def test_redaction_is_idempotent_per_txn(register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    target = send_ok(alice, room_id, "x")
    first = ok(redact(alice, room_id, target, txn="same"))["event_id"]
    assert ok(redact(alice, room_id, target, txn="same"))["event_id"] == first


def test_redacting_others_needs_the_redact_level(register_user):
    room_id, (alice, bob, carol) = room_with_members(register_user, "alice", "bob", "carol")
    bobs = send_ok(bob, room_id, "bob's words")
    body = error(redact(carol, room_id, bobs), 403, "M_FORBIDDEN")
    assert "permission" in body["error"]
    assert ok(get_event(alice, room_id, bobs))["content"]["body"] == "bob's words"
    ok(redact(alice, room_id, bobs))  # the room creator has the redact level
    assert ok(get_event(carol, room_id, bobs))["content"] == {}


def test_redaction_level_of_the_event_type(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob",
                                              power_level_content_override={
                                                  "events": {"m.room.redaction": 10}})
    own = send_ok(bob, room_id, "mine")
    error(redact(bob, room_id, own), 403, "M_FORBIDDEN")


def test_redact_errors(register_user):
    alice = register_user("alice")
    eve = register_user("eve")
    room_id = create_room(alice)
    target = send_ok(alice, room_id, "x")
    error(redact(alice, room_id, "$does-not-exist"), 400, "M_INVALID_PARAM")
    error(redact(eve, room_id, target), 403, "M_FORBIDDEN")
    other = create_room(alice)
    # Not in that room: 400 as Synapse, and the same answer as for an unknown event.
    error(redact(alice, other, target), 400, "M_INVALID_PARAM")
    error(alice.put(f"{V3}/rooms/{q(room_id)}/redact/{q(target)}/t", json={"reason": 5}),
          400, "M_BAD_JSON")


def test_redacted_state_keeps_protected_keys(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_version="11", power_level_content_override={
        "users_default": 5})
    levels_id = state_map(alice, room_id)[("m.room.power_levels", "")]["event_id"]
    topic_id = put_state_ok(alice, room_id, "m.room.topic", {"topic": "secret"})
    ok(redact(alice, room_id, levels_id))
    ok(redact(alice, room_id, topic_id))
    state = state_map(alice, room_id)
    assert state[("m.room.topic", "")]["content"] == {}
    levels = state[("m.room.power_levels", "")]["content"]
    assert levels["users_default"] == 5 and "notifications" not in levels
    assert "redacted_because" in state[("m.room.topic", "")]["unsigned"]
    # The redacted power levels still rule the room: alice (100) can still send.
    send_ok(alice, room_id, "still admin")


def test_member_event_redaction_keeps_membership(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    member_id = state_map(alice, room_id)[("m.room.member", bob.user_id)]["event_id"]
    ok(redact(alice, room_id, member_id))
    content = state_map(alice, room_id)[("m.room.member", bob.user_id)]["content"]
    assert content == {"membership": "join"}
    send_ok(bob, room_id, "still in")
