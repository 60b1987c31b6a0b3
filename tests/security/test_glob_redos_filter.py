"""Attack: a filter glob that makes a backtracking regex engine take exponential time.

A ``types``/``not_types`` entry like ``*a*a*a...*b`` was a Python regular expression matched
against every event's type (services/reading/timeline.py filters rows one by one): with events
whose type is a long run of ``a``, one /sync or /messages hung its worker. Globs are now RE2
expressions (services/globs.py), linear in the type, and a list of globs is matched in one
pass; entries are bounded in length and wildcards at the API (test_glob_limits_filter below).

The attack runs for real through /sync, a stored filter and /messages; the outcome is
checked, not the time. ``cpu_guard`` only turns a hang of the old code into a failure: after
120 s of CPU (the fixed code needs milliseconds) it interrupts the test.
"""

import json
from urllib.parse import quote

import pytest

from sync_support import V3, create_room, event_ids, joined, messages, ok, send, sync

from homeserver.services import globs

EVIL = "*a" * 12 + "*b"  # 25 wildcards: within the default limit of 50
LONG_TYPE = "a" * 200


@pytest.fixture
def alice(register_user):
    return register_user("alice")


def _room_with_long_types(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    long_one = send(alice, room, "x", event_type=LONG_TYPE)
    ending_b = send(alice, room, "x", event_type=LONG_TYPE + "b")
    plain = send(alice, room, "x")
    return room, since, long_one, ending_b, plain


def test_sync_not_types_backtracking_glob(alice, cpu_guard):
    room, since, long_one, ending_b, plain = _room_with_long_types(alice)
    inline = {"room": {"timeline": {"not_types": [EVIL]}}}
    timeline = joined(sync(alice, since=since, filter=inline), room)["timeline"]["events"]
    assert event_ids(timeline) == [long_one, plain]

    filter_id = ok(alice.post(f"{V3}/user/{quote(alice.user_id)}/filter", json={
        "room": {"timeline": {"types": [EVIL, "m.room.message"]}}}))["filter_id"]
    timeline = joined(sync(alice, since=since, filter=filter_id), room)["timeline"]["events"]
    assert event_ids(timeline) == [ending_b, plain]


def test_messages_types_backtracking_glob(alice, cpu_guard):
    room, since, long_one, ending_b, plain = _room_with_long_types(alice)
    chunk = ok(messages(alice, room, dir="b", filter=json.dumps({"not_types": [EVIL]})))["chunk"]
    ids = event_ids(chunk)
    assert long_one in ids and plain in ids and ending_b not in ids
    chunk = ok(messages(alice, room, dir="b", filter=json.dumps({"types": [EVIL]})))["chunk"]
    assert event_ids(chunk) == [ending_b]


def test_account_data_not_types_backtracking_glob(alice, cpu_guard):
    ok(alice.put(f"{V3}/user/{quote(alice.user_id)}/account_data/{LONG_TYPE}", json={"k": 1}))
    ok(alice.put(f"{V3}/user/{quote(alice.user_id)}/account_data/{LONG_TYPE}b", json={"k": 2}))
    body = sync(alice, filter={"account_data": {"not_types": [EVIL]}})
    types = {e["type"] for e in body.get("account_data", {}).get("events", [])}
    assert LONG_TYPE in types and LONG_TYPE + "b" not in types


def test_filter_globs_are_linear_matchers():
    """Filters match through services/globs.py (RE2), with the spec's semantics: only * is a
    wildcard, case-sensitive, the whole type."""
    matcher = globs.type_matcher((EVIL, "m.room.*", "exact"))
    assert all(type(m._regexp).__module__ == "re2" for m in matcher._globs)
    assert not matcher.matches(LONG_TYPE) and matcher.matches(LONG_TYPE + "b")
    assert matcher.matches("m.room.message") and not matcher.matches("M.ROOM.MESSAGE")
    assert matcher.matches("exact") and not matcher.matches("exactly")
    single = globs.type_matcher(("m.?oom",))
    assert not single.matches("m.room") and single.matches("m.?oom")  # ? is literal here


@pytest.mark.parametrize("where", ["upload", "sync", "messages"])
def test_glob_limits_filter(make_app, where):
    app = make_app(filters={"max_glob_length": 40, "max_glob_wildcards": 4})
    client = app.test_client()
    token = ok(client.post(f"{V3}/register", json={
        "username": "carol", "password": "correct horse battery",
        "auth": {"type": "m.login.dummy"}}))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    room = ok(client.post(f"{V3}/createRoom", json={}, headers=headers))["room_id"]

    def attempt(entry):
        if where == "upload":
            return client.post(f"{V3}/user/{quote('@carol:localhost:8008')}/filter",
                               json={"room": {"timeline": {"not_types": [entry]}}},
                               headers=headers)
        if where == "sync":
            value = '{"room": {"state": {"types": ["%s"]}}}' % entry
            return client.get(f"{V3}/sync?filter={quote(value)}", headers=headers)
        value = '{"not_types": ["%s"]}' % entry
        return client.get(f"{V3}/rooms/{quote(room)}/messages?dir=b&filter={quote(value)}",
                          headers=headers)

    for refused in ("*a" * 5, "m." + "x" * 40 + "*"):
        response = attempt(refused)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["errcode"] == "M_BAD_JSON"
    for accepted in ("*a" * 4, "m.room.*", "x" * 100):  # entries without * are exact types
        assert attempt(accepted).status_code == 200, accepted
