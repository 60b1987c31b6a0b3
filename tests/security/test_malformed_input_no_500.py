"""Attack: malformed input that crashed a handler (500, logged as a server fault). Digits of
other scripts pass ``str.isdigit()`` and then fail ``int()``; a ``signatures`` entry that is not
an object broke key upload; a txnId or to-device type longer than its column broke the insert
on PostgreSQL. Each is now a 400 with the standard error body."""

import peewee
import pytest
from flask import Blueprint

from helpers.api import V3, ok, q
from helpers.rooms import create_room
from helpers.keys import SigningKey, device_keys_for, make_user

WEIRD_NUMBERS = ["\u00b2", "1\u00b2", "\u2460", "\u0661\u0662", "99999999999999999999999999",
                 "-\u00b2", "\uff11"]


def assert_client_error(response, *errcodes):
    body = response.get_json()
    assert 400 <= response.status_code < 500, (response.status_code, body)
    assert body["errcode"] in errcodes, body


@pytest.mark.parametrize("value", WEIRD_NUMBERS)
def test_unicode_digits_in_query_parameters(register_user, value):
    alice = register_user("alice")
    room_id = create_room(alice)
    v = q(value)
    checks = [
        (f"{V3}/notifications?from={v}", ("M_INVALID_PARAM",)),
        (f"{V3}/publicRooms?since=n{v}", ("M_INVALID_PARAM",)),
        (f"{V3}/publicRooms?limit={v}", ("M_INVALID_PARAM",)),
        (f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit={v}", ("M_INVALID_PARAM",)),
        (f"{V3}/sync?timeout={v}", ("M_INVALID_PARAM",)),
        (f"{V3}/room_keys/version/{v}", ("M_NOT_FOUND",)),
        (f"{V3}/user/{q(alice.user_id)}/filter/{v}", ("M_NOT_FOUND",)),
        (f"{V3}/sync?filter={v}", ("M_NOT_FOUND", "M_INVALID_PARAM")),
    ]
    for path, errcodes in checks:
        assert_client_error(alice.get(path), *errcodes)


@pytest.mark.parametrize("bad", ["not an object", ["a"], 5, {"ed25519:X": 5}])
def test_non_object_signatures_entry_in_key_upload(client, bad):
    alice = make_user(client, "alice", "A1")
    key = SigningKey()
    keys = device_keys_for(alice, key)
    forged = {**keys, "signatures": {alice.user_id: bad}}
    response = alice.post(f"{V3}/keys/upload", json={"device_keys": forged})
    assert_client_error(response, "M_BAD_JSON", "M_INVALID_SIGNATURE", "M_INVALID_PARAM")
    ok(alice.post(f"{V3}/keys/upload", json={"device_keys": keys}))
    # The server stores one-time keys without checking their signatures (the claiming client
    # does), so this one is accepted; it just must not crash.
    otk = {"signed_curve25519:AAAA": {"key": "k", "signatures": {alice.user_id: bad}}}
    assert alice.post(f"{V3}/keys/upload", json={"one_time_keys": otk}).status_code == 200
    for signatures in (bad, {alice.user_id: bad}):
        response = alice.post(f"{V3}/keys/signatures/upload", json={
            alice.user_id: {"A1": {**keys, "signatures": signatures}}})
        assert response.status_code in (200, 400), response.get_json()
        assert "errcode" in response.get_json() or "failures" in response.get_json()


def test_overlong_txn_ids_and_types(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    room_id = create_room(alice)
    long_txn = "t" * 256
    long_type = "m." + "x" * 300
    response = alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/{long_txn}",
                         json={"msgtype": "m.text", "body": "x"})
    assert_client_error(response, "M_INVALID_PARAM")
    response = alice.put(f"{V3}/rooms/{q(room_id)}/send/{long_type}/t1", json={})
    assert_client_error(response, "M_TOO_LARGE")
    event_id = ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/t2",
                            json={"msgtype": "m.text", "body": "x"}))["event_id"]
    response = alice.put(f"{V3}/rooms/{q(room_id)}/redact/{q(event_id)}/{long_txn}", json={})
    assert_client_error(response, "M_INVALID_PARAM")
    messages = {"messages": {bob.user_id: {bob.device_id: {"a": 1}}}}
    assert_client_error(alice.put(f"{V3}/sendToDevice/m.test/{long_txn}", json=messages),
                        "M_INVALID_PARAM")
    assert_client_error(alice.put(f"{V3}/sendToDevice/{long_type}/t3", json=messages),
                        "M_INVALID_PARAM")
    # At the limit they work.
    ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/{'t' * 255}",
                 json={"msgtype": "m.text", "body": "x"}))
    ok(alice.put(f"{V3}/sendToDevice/{'m.' + 'x' * 253}/{'t' * 255}", json=messages))


def test_overlong_key_ids_in_key_upload(client):
    """Found probing column sizes on PostgreSQL: one-time and fallback key IDs longer than the
    algorithm (128) and key_id (255) columns failed the insert with a 500."""
    alice = make_user(client, "alice", "A1")
    for field in ("one_time_keys", "fallback_keys"):
        for full_id in ("signed_curve25519:" + "A" * 256, "x" * 129 + ":AAAA"):
            key = {"key": "k", "signatures": {}}
            response = alice.post(f"{V3}/keys/upload", json={field: {full_id: key}})
            assert_client_error(response, "M_BAD_JSON")
    ok(alice.post(f"{V3}/keys/upload", json={"one_time_keys": {
        "x" * 128 + ":" + "A" * 255: {"key": "k", "signatures": {}}}}))


def test_overlong_relation_targets_and_signing_keys(client, register_user):
    """Found probing column sizes on PostgreSQL: a relation whose event_id (longer than any event
    ID) or rel_type is longer than its column, or a thread root that long, failed the send with
    a 500; so did a cross-signing key longer than its column."""
    alice = register_user("alice")
    room_id = create_room(alice)
    parent = ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/p",
                          json={"msgtype": "m.text", "body": "parent"}))["event_id"]
    for n, relates in enumerate([
            {"rel_type": "m.thread", "event_id": "$" + "x" * 300},
            {"rel_type": "m.reference", "event_id": "$" + "x" * 300},
            {"rel_type": "x" * 100, "event_id": parent}]):
        ok(alice.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/r{n}",
                     json={"msgtype": "m.text", "body": "x", "m.relates_to": relates}))
    ok(alice.get(f"/_matrix/client/v1/rooms/{q(room_id)}/relations/{q(parent)}"))
    ok(alice.get(f"{V3}/sync"))
    public = "A" * 300
    response = alice.post(f"{V3}/keys/device_signing/upload", json={"master_key": {
        "user_id": alice.user_id, "usage": ["master"], "keys": {f"ed25519:{public}": public}}})
    assert_client_error(response, "M_INVALID_PARAM")


def test_overlong_ids_in_key_backup(register_user):
    """Found probing column sizes on PostgreSQL: a backed-up room or session ID longer than its
    column failed the upload with a 500."""
    alice = register_user("alice")
    version = ok(alice.post(f"{V3}/room_keys/version", json={
        "algorithm": "m.megolm_backup.v1.curve25519-aes-sha2",
        "auth_data": {"public_key": "x", "signatures": {}}}))["version"]
    session = {"first_message_index": 1, "forwarded_count": 0, "is_verified": True,
               "session_data": {}}
    long_id = "x" * 256
    for path, body in [
            (f"/room_keys/keys/{q('!room:localhost:8008')}/{long_id}", session),
            (f"/room_keys/keys/{q('!' + long_id)}/s", session),
            ("/room_keys/keys",
             {"rooms": {"!r:localhost:8008": {"sessions": {long_id: session}}}})]:
        response = alice.put(f"{V3}{path}?version={version}", json=body)
        assert_client_error(response, "M_INVALID_PARAM")
    ok(alice.put(f"{V3}/room_keys/keys/{q('!room:localhost:8008')}/{'x' * 255}"
                 f"?version={version}", json=session))


def test_values_the_database_refuses_are_a_client_error(make_app, register_user):
    """Safety net for a size no check knows: the database's DataError (PostgreSQL: value too
    long, out of range) answers 400 M_INVALID_PARAM, not 500."""
    app = make_app()
    probe = Blueprint("data_error_probe_for_test", __name__)

    @probe.post("/_matrix/client/v3/_test_data_error")
    def data_error():
        raise peewee.DataError("value too long for type character varying(255)")

    app.register_blueprint(probe)
    response = app.test_client().post("/_matrix/client/v3/_test_data_error", json={})
    assert (response.status_code, response.get_json()["errcode"]) == (400, "M_INVALID_PARAM")


def test_nul_characters_where_no_check_looks_are_a_client_error(register_user):
    """PostgreSQL text cannot hold NUL (psycopg2 refuses it before sending): a pagination token
    of the space hierarchy and a user ID in a signature upload carried one to the database."""
    alice = register_user("alice")
    room_id = create_room(alice)
    token = q("a\x00b")
    response = alice.get(f"/_matrix/client/v1/rooms/{q(room_id)}/hierarchy?from={token}")
    assert_client_error(response, "M_INVALID_PARAM", "M_NOT_FOUND")
    response = alice.post(f"{V3}/keys/signatures/upload",
                          json={"@x\x00:server": {"key\x00id": {"signatures": {}}}})
    assert response.status_code < 500, response.get_json()
