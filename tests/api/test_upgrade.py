"""POST /rooms/{roomId}/upgrade (spec module "Room Upgrades")."""

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import (create_room, join, put_state, put_state_ok, room_with_members, send,
                           state_map)


def upgrade(user, room_id, version, **body):
    return user.post(f"{V3}/rooms/{q(room_id)}/upgrade", json={"new_version": version, **body})


@pytest.mark.parametrize("old_version,new_version", [("1", "12"), ("9", "10"), ("11", "12"),
                                                     ("12", "12"), ("12", "11")])
def test_upgrade_carries_state_and_tombstones(register_user, old_version, new_version):
    alice = register_user("alice")
    bob = register_user("bob")
    old = create_room(alice, room_version=old_version, preset="public_chat", name="Chat",
                      topic="About things", room_alias_name="chat", visibility="public",
                      creation_content={"type": "org.example.kind"},
                      power_level_content_override={"events_default": 0, "users_default": 0})
    join(bob, old)
    put_state_ok(alice, old, "m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"})
    put_state_ok(alice, old, "org.example.private", {"x": 1})
    new = ok(upgrade(alice, old, new_version))["replacement_room"]
    assert new != old

    new_state = state_map(alice, new)
    create = new_state[("m.room.create", "")]["content"]
    assert create["room_version"] == new_version
    assert create["predecessor"]["room_id"] == old
    assert create["type"] == "org.example.kind"
    assert new_state[("m.room.name", "")]["content"] == {"name": "Chat"}
    assert new_state[("m.room.topic", "")]["content"]["topic"] == "About things"
    assert new_state[("m.room.join_rules", "")]["content"] == {"join_rule": "public"}
    assert new_state[("m.room.encryption", "")]["content"]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert ("org.example.private", "") not in new_state  # not transferred
    assert ("m.room.member", bob.user_id) not in new_state  # members join themselves
    levels = new_state[("m.room.power_levels", "")]["content"]
    if new_version == "12":
        assert alice.user_id not in levels["users"]
    else:
        assert levels["users"][alice.user_id] == 100

    old_state = state_map(alice, old)
    tombstone = old_state[("m.room.tombstone", "")]
    assert tombstone["content"]["replacement_room"] == new
    assert tombstone["sender"] == alice.user_id
    old_levels = old_state[("m.room.power_levels", "")]["content"]
    assert old_levels["events_default"] == 50 and old_levels["invite"] == 50
    error(send(bob, old, "anyone there?"), 403, "M_FORBIDDEN")

    # Aliases and the directory listing moved with the room.
    assert ok(alice.get(f"{V3}/directory/room/{q('#chat:localhost:8008')}"))["room_id"] == new
    assert new_state[("m.room.canonical_alias", "")]["content"]["alias"] == \
        "#chat:localhost:8008"
    assert ok(alice.get(f"{V3}/directory/list/room/{q(new)}"))["visibility"] == "public"
    assert ok(alice.get(f"{V3}/directory/list/room/{q(old)}"))["visibility"] == "private"
    assert join(bob, new) == new


def test_upgrade_permissions_and_errors(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    eve = register_user("eve")
    body = error(upgrade(bob, room_id, "11"), 403, "M_FORBIDDEN")
    assert "m.room.tombstone" in body["error"]
    error(upgrade(eve, room_id, "11"), 403, "M_FORBIDDEN")
    error(upgrade(alice, room_id, "99"), 400, "M_UNSUPPORTED_ROOM_VERSION")
    error(alice.post(f"{V3}/rooms/{q(room_id)}/upgrade", json={}), 400, "M_BAD_JSON")
    # An unknown room is 404 as Synapse (POST /join answers the same).
    error(upgrade(alice, "!nope:localhost:8008", "11"), 404, "M_NOT_FOUND")
    # Nothing was created by the refused upgrades.
    assert ok(alice.get(f"{V3}/joined_rooms"))["joined_rooms"] == [room_id]


def test_upgrade_to_v12_with_additional_creators(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob",
                                              room_version="11")
    new = ok(upgrade(alice, room_id, "12", additional_creators=[bob.user_id]))[
        "replacement_room"]
    state = state_map(alice, new)
    assert state[("m.room.create", "")]["content"]["additional_creators"] == [bob.user_id]
    levels = state[("m.room.power_levels", "")]["content"]
    assert bob.user_id not in levels["users"] and alice.user_id not in levels["users"]
    join(bob, new)
    # As a creator, bob may change anything.
    put_state_ok(bob, new, "m.room.name", {"name": "Bob's now"})
    error(upgrade(alice, room_id, "12", additional_creators=["nope"]), 400, "M_INVALID_PARAM")


def test_upgrade_by_moderator_who_is_not_top_level(register_user):
    """A moderator allowed to send the tombstone, but below some event levels, still gets the
    state copied (temporarily raised), and keeps their own level afterwards."""
    alice = register_user("alice")
    mod = register_user("mod")
    room_id = create_room(alice, preset="public_chat", room_version="10",
                          power_level_content_override={
                              "users": {alice.user_id: 100, mod.user_id: 60},
                              "events": {"m.room.tombstone": 60, "m.room.power_levels": 100,
                                         "m.room.history_visibility": 100}})
    join(mod, room_id)
    new = ok(upgrade(mod, room_id, "11"))["replacement_room"]
    levels = state_map(mod, new)[("m.room.power_levels", "")]["content"]
    assert levels["users"][mod.user_id] == 60 and levels["users"][alice.user_id] == 100
    error(put_state(mod, new, "m.room.power_levels", levels), 403, "M_FORBIDDEN")


def test_restricted_room_allowing_itself_points_to_the_new_room(register_user):
    alice = register_user("alice")
    room_id = create_room(alice, room_version="10")
    put_state_ok(alice, room_id, "m.room.join_rules", {
        "join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": room_id}]})
    new = ok(upgrade(alice, room_id, "11"))["replacement_room"]
    rules = state_map(alice, new)[("m.room.join_rules", "")]["content"]
    assert rules["allow"] == [{"type": "m.room_membership", "room_id": new}]


def test_bans_are_carried_over(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    ok(alice.post(f"{V3}/rooms/{q(room_id)}/ban", json={"user_id": bob.user_id}))
    new = ok(upgrade(alice, room_id, "12"))["replacement_room"]
    assert state_map(alice, new)[("m.room.member", bob.user_id)]["content"]["membership"] == "ban"
    error(bob.post(f"{V3}/join/{q(new)}", json={}), 403, "M_FORBIDDEN")


def test_tags_follow_the_user_to_the_new_room(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    ok(bob.put(f"{V3}/user/{q(bob.user_id)}/rooms/{q(room_id)}/tags/m.favourite",
               json={"order": 0.5}))
    new = ok(upgrade(alice, room_id, "12"))["replacement_room"]
    join(bob, new)
    tags = ok(bob.get(f"{V3}/user/{q(bob.user_id)}/rooms/{q(new)}/tags"))
    assert tags == {"tags": {"m.favourite": {"order": 0.5}}}
    assert ok(alice.get(f"{V3}/user/{q(alice.user_id)}/rooms/{q(new)}/tags")) == {"tags": {}}
