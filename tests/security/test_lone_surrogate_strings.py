"""Attack (found by test_fuzz_json_bodies): a JSON string escaping half a surrogate pair,
``"\\ud800"``, parses in Python but is no Unicode text: storing it failed (UTF-8 encoding for
SQLite and PostgreSQL) with a 500 on account data, filters, tags, registration and every
user-interactive-auth endpoint. Such bodies now answer 400 M_BAD_JSON; a proper pair (an emoji
written as two escapes) is still accepted."""

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room

LONE = b'{"a": "\\ud800"}'
LONE_KEY = b'{"\\udfff": 1}'


@pytest.mark.parametrize("body", [LONE, LONE_KEY])
def test_lone_surrogates_are_refused_everywhere(client, register_user, body):
    alice = register_user("alice")
    room_id = create_room(alice)
    for method, path in [
            ("PUT", f"/user/{q(alice.user_id)}/account_data/m.x"),
            ("PUT", f"/user/{q(alice.user_id)}/rooms/{q(room_id)}/account_data/m.x"),
            ("PUT", f"/user/{q(alice.user_id)}/rooms/{q(room_id)}/tags/u.x"),
            ("POST", f"/user/{q(alice.user_id)}/filter"),
            ("POST", "/account/password"),
            ("POST", "/account/deactivate"),
            ("PUT", f"/rooms/{q(room_id)}/send/m.room.message/t1")]:
        error(alice.request(method, f"{V3}{path}", data=body), 400, "M_BAD_JSON")
    error(client.post(f"{V3}/register", data=body), 400, "M_BAD_JSON")
    inline = q('{"room": {"timeline": {"types": ["\\ud800"]}}}')
    error(alice.get(f"{V3}/sync?filter={inline}"), 400, "M_INVALID_PARAM")


def test_surrogate_pairs_are_text(register_user):
    alice = register_user("alice")
    path = f"{V3}/user/{q(alice.user_id)}/account_data/m.x"
    ok(alice.put(path, data=b'{"a": "\\ud83d\\ude00"}'))
    assert ok(alice.get(path)) == {"a": "\U0001f600"}
