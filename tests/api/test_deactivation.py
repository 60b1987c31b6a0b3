"""POST /account/deactivate: what goes with the account, and erasure."""

import hashlib
import os

from helpers.media import DOWNLOAD, media_files, upload

from helpers.api import V3, ok, q
from helpers.rooms import create_room, invite, join, room_with_members, send_ok, state_map
from test_cross_signing import CrossSigning, query, upload_cs
from helpers.keys import SigningKey, device_keys_for
from helpers.accounts import deactivate

from homeserver.models.account_data import AccountData
from homeserver.models.users import User


def membership_of(viewer, room_id, user) -> str:
    return state_map(viewer, room_id)[("m.room.member", user.user_id)]["content"]["membership"]


def timeline_bodies(user, room_id) -> dict:
    """event_id -> content of the room's m.room.message events as ``user`` sees them."""
    chunk = ok(user.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=100"))["chunk"]
    return {e["event_id"]: e["content"] for e in chunk if e["type"] == "m.room.message"}


def test_leaves_rooms_rejects_invites_and_retracts_knocks(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    invited = create_room(alice)
    invite(alice, invited, bob)
    knocked = create_room(alice, room_version="10", initial_state=[
        {"type": "m.room.join_rules", "content": {"join_rule": "knock"}}])
    ok(bob.post(f"{V3}/knock/{q(knocked)}", json={}))

    deactivate(bob)
    for room in (room_id, invited, knocked):
        assert membership_of(alice, room, bob) == "leave"
    assert bob.user_id not in ok(alice.get(f"{V3}/rooms/{q(room_id)}/joined_members"))["joined"]
    # The account is gone for good: tokens, login, profile.
    response = bob.get(f"{V3}/account/whoami")
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_UNKNOWN_TOKEN"
    response = bob.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "bob"},
        "password": bob.password})
    assert response.status_code == 403
    assert alice.get(f"{V3}/profile/{q(bob.user_id)}").status_code in (403, 404)


def test_keys_go_and_contacts_see_the_change(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob")
    ok(bob.post(f"{V3}/keys/upload", json={
        "device_keys": device_keys_for(bob, SigningKey())}))
    keys = CrossSigning(bob.user_id)
    ok(upload_cs(bob, keys.body()))
    before = query(alice, bob.user_id)
    assert bob.user_id in before["master_keys"]
    assert before["device_keys"][bob.user_id]
    since = ok(alice.get(f"{V3}/sync?timeout=0"))["next_batch"]

    deactivate(bob)
    after = query(alice, bob.user_id)
    assert bob.user_id not in after.get("master_keys", {})
    assert bob.user_id not in after.get("self_signing_keys", {})
    assert not after["device_keys"].get(bob.user_id)
    sync = ok(alice.get(f"{V3}/sync?timeout=0&since={since}"))
    lists = sync.get("device_lists", {})
    assert bob.user_id in lists.get("changed", []) + lists.get("left", [])


def test_profile_and_key_backup_cleared(register_user):
    alice = register_user("alice")
    ok(alice.put(f"{V3}/profile/{q(alice.user_id)}/displayname", json={"displayname": "Al"}))
    ok(alice.post(f"{V3}/room_keys/version", json={
        "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
        "auth_data": {"public_key": "abc", "signatures": {}}}))
    deactivate(alice)
    user = User.get(User.user_id == alice.user_id)
    assert user.deactivated and user.displayname is None and user.password_hash is None
    from homeserver.models.keys import RoomKeysVersion
    assert not RoomKeysVersion.select().where((RoomKeysVersion.user_id == alice.user_id)
                                              & (RoomKeysVersion.deleted == False)  # noqa: E712
                                              ).exists()


def test_account_data_kept_without_erase_and_deleted_with_it(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    for user in (alice, bob):
        ok(user.put(f"{V3}/user/{q(user.user_id)}/account_data/org.example.x", json={"a": 1}))
    deactivate(alice)
    deactivate(bob, erase=True)
    assert AccountData.select().where(AccountData.user_id == alice.user_id).exists()
    assert not AccountData.select().where(AccountData.user_id == bob.user_id).exists()


def test_erased_events_are_redacted_for_later_joiners_only(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob",
                                              preset="public_chat")
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/state/m.room.history_visibility/",
                 json={"history_visibility": "shared"}))
    secret = send_ok(bob, room_id, "bob's secret")
    kept = send_ok(alice, room_id, "alice's words")
    deactivate(bob, erase=True)

    # Alice was there: she still sees the original.
    assert timeline_bodies(alice, room_id)[secret]["body"] == "bob's secret"
    # Carol joins after the erasure: shared history shows her a redacted copy.
    carol = register_user("carol")
    join(carol, room_id)
    seen = timeline_bodies(carol, room_id)
    assert seen[secret] == {}
    assert seen[kept]["body"] == "alice's words"
    event = ok(carol.get(f"{V3}/rooms/{q(room_id)}/event/{q(secret)}"))
    assert event["content"] == {} and event["sender"] == bob.user_id
    sync = ok(carol.get(f"{V3}/sync"))
    for e in sync["rooms"]["join"][room_id]["timeline"]["events"]:
        if e["event_id"] == secret:
            assert e["content"] == {}


def test_without_erase_later_joiners_see_events(register_user):
    room_id, (alice, bob) = room_with_members(register_user, "alice", "bob",
                                              preset="public_chat")
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/state/m.room.history_visibility/",
                 json={"history_visibility": "shared"}))
    said = send_ok(bob, room_id, "still here")
    deactivate(bob)
    carol = register_user("carol")
    join(carol, room_id)
    assert timeline_bodies(carol, room_id)[said]["body"] == "still here"


def test_erase_deletes_the_accounts_media(app, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    mine, shared = os.urandom(5_000), os.urandom(5_000)
    bob_only = upload(bob, mine, "image/png")
    bob_shared = upload(bob, shared)
    alice_copy = upload(alice, shared)  # the same bytes, uploaded by someone else too
    files_before = {os.path.basename(p) for p in media_files(app)}
    assert hashlib.sha256(mine).hexdigest() in files_before

    deactivate(bob, erase=True)
    for ref in (bob_only, bob_shared):
        assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 404
    assert alice.get(f"{DOWNLOAD}/{alice_copy}").data == shared
    files_after = {os.path.basename(p) for p in media_files(app)}
    assert hashlib.sha256(mine).hexdigest() not in files_after
    assert hashlib.sha256(shared).hexdigest() in files_after


def test_media_kept_without_erase(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    ref = upload(bob, b"kept")
    deactivate(bob)
    assert alice.get(f"{DOWNLOAD}/{ref}").data == b"kept"
