"""Attack: deeply nested JSON. Python parses and re-serializes JSON recursively, so content
nested just below the interpreter's limit was accepted by a send and then broke every /sync of
the room's members (the response wraps content a dozen levels deeper, further down the stack):
500 for everyone, for good. Now every JSON body (and inline filter) deeper than
``requests.max_json_depth`` levels is refused with M_BAD_JSON, and content at the limit is
served everywhere it appears."""

import base64
import json

import pytest

from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, join
from helpers.user_handle import UserHandle
from homeserver.config import ConfigError, load_config
from homeserver.services.json_input import nesting_depth


def nested(levels: int) -> dict:
    """An object ``levels`` deep: {"a": {"a": ... "x"}}."""
    value = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def deep_text(levels: int, opener="[", closer="]") -> str:
    return opener * levels + closer * levels


def send_raw(user, room_id, body, txn, event_type="m.room.message"):
    return user.put(f"{V3}/rooms/{q(room_id)}/send/{q(event_type)}/{txn}", data=body,
                    headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("levels", [101, 500, 930, 990, 5000, 100_000])
def test_body_nested_past_the_limit_is_refused(register_user, levels):
    alice = register_user("alice")
    room_id = create_room(alice)
    # Built as text: the test's own json.dumps would hit the recursion limit.
    body = '{"msgtype": "m.text", "body": "x", "d": ' + '{"a": ' * (levels - 1) + '"x"' \
        + "}" * (levels - 1) + "}"
    error(send_raw(alice, room_id, body, f"t{levels}"), 400, "M_BAD_JSON")
    arrays = '{"d": ' + deep_text(levels - 1) + "}"
    error(send_raw(alice, room_id, arrays, f"u{levels}"), 400, "M_BAD_JSON")
    # Nothing reached the room; the members' syncs still work.
    timeline = ok(alice.get(f"{V3}/sync"))["rooms"]["join"][room_id]["timeline"]["events"]
    assert all(e["type"] != "m.room.message" for e in timeline)


def test_deep_bodies_refused_on_every_endpoint(register_user):
    alice = register_user("alice")
    too_deep = json.dumps(nested(101))
    for method, path in [
            ("PUT", f"/user/{q(alice.user_id)}/account_data/m.deep"),
            ("POST", f"/user/{q(alice.user_id)}/filter"),
            ("POST", "/createRoom"),
            ("POST", "/keys/upload"),
            ("PUT", "/sendToDevice/m.deep/t1"),
            ("PUT", "/room_keys/keys?version=1")]:
        response = alice.request(method, f"{V3}{path}", data=too_deep)
        error(response, 400, "M_BAD_JSON")
    # An inline filter in the query string too.
    deep_filter = json.dumps({"room": nested(101)})
    error(alice.get(f"{V3}/sync?filter={q(deep_filter)}"), 400, "M_INVALID_PARAM")
    # A forged (server-generated, opaque) search token nested deeply.
    token = base64.urlsafe_b64encode(deep_text(50_000).encode()).decode()
    response = alice.post(f"{V3}/search?next_batch={token}",
                          json={"search_categories": {"room_events": {"search_term": "x"}}})
    error(response, 400, "M_INVALID_PARAM")


def _reads_all_succeed(alice, bob, room_id, event_ids):
    for user in (alice, bob):
        body = ok(user.get(f"{V3}/sync"))
        assert body["rooms"]["join"][room_id]["timeline"]["events"]
        ok(user.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=50"))
        ok(user.get(f"{V3}/rooms/{q(room_id)}/state"))
        for event_id in event_ids:
            ok(user.get(f"{V3}/rooms/{q(room_id)}/event/{q(event_id)}"))
            ok(user.get(f"{V3}/rooms/{q(room_id)}/context/{q(event_id)}?limit=10"))
            ok(user.get(f"/_matrix/client/v1/rooms/{q(room_id)}/relations/{q(event_id)}"))


@pytest.mark.parametrize("limit", [None, 256])
def test_content_at_the_limit_is_served_everywhere(make_app, limit):
    app = make_app(requests={"max_json_depth": limit}) if limit else make_app()
    limit = limit or 100
    client = app.test_client()
    users = []
    for name in ("alice", "bob"):
        response = client.post(f"{V3}/register", json={
            "username": name, "password": "correct horse battery",
            "auth": {"type": "m.login.dummy"}})
        users.append(ok(response))
    alice, bob = (UserHandle(client, u["user_id"], u["access_token"], u["device_id"], None)
                  for u in users)
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)

    # Event content exactly at the limit (the body is the content).
    content = {"msgtype": "m.text", "body": "deep", "d": nested(limit - 1)}
    assert nesting_depth(json.dumps(content).encode()) == limit
    root = ok(send_raw(alice, room_id, json.dumps(content), "deep1"))["event_id"]
    # An edit at the limit: it is bundled into the original's unsigned.m.relations.
    edit = {"msgtype": "m.text", "body": "* deep", "d": nested(limit - 3),
            "m.relates_to": {"rel_type": "m.replace", "event_id": root}}
    edit["m.new_content"] = {"msgtype": "m.text", "body": "deep", "d": nested(limit - 3)}
    assert nesting_depth(json.dumps(edit).encode()) == limit - 1
    ok(send_raw(alice, room_id, json.dumps(edit), "deep2"))
    # A state event at the limit, twice (unsigned.prev_content carries the first).
    for txn in range(2):
        path = f"{V3}/rooms/{q(room_id)}/state/m.deep/k"
        ok(alice.put(path, data=json.dumps({"n": txn, "d": nested(limit - 1)})))
    # Account data and to-device content at the limit.
    path = f"{V3}/user/{q(alice.user_id)}/account_data/m.deep"
    ok(alice.put(path, data=json.dumps(nested(limit))))
    path = f"{V3}/user/{q(alice.user_id)}/rooms/{q(room_id)}/account_data/m.deep"
    ok(alice.put(path, data=json.dumps(nested(limit))))
    to_device = {"messages": {bob.user_id: {bob.device_id: nested(limit - 3)}}}
    assert nesting_depth(json.dumps(to_device).encode()) == limit
    ok(alice.put(f"{V3}/sendToDevice/m.deep/td1", data=json.dumps(to_device)))
    # One level more is refused.
    error(send_raw(alice, room_id, json.dumps({"d": nested(limit)}), "deep3"),
          400, "M_BAD_JSON")

    _reads_all_succeed(alice, bob, room_id, [root])
    delivered = ok(bob.get(f"{V3}/sync"))["to_device"]["events"]
    assert [e["type"] for e in delivered] == ["m.deep"]
    assert ok(alice.get(f"{V3}/user/{q(alice.user_id)}/account_data/m.deep")) == nested(limit)


def test_limit_is_bounded_in_the_configuration():
    assert load_config(path="/dev/null", environ={}).requests["max_json_depth"] == 100
    with pytest.raises(ConfigError):
        load_config(path="/dev/null", environ={}, overrides={"requests": {"max_json_depth": 900}})


def test_nesting_depth_ignores_brackets_in_strings():
    assert nesting_depth(b'{"a": "[[[{{{", "b": ["]]]"]}') == 2
    assert nesting_depth(b'"\\"[[["') == 0
    assert nesting_depth(b"[[], [[]], {}]") == 3
