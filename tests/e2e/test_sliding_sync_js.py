"""End to end through real gunicorn: matrix-js-sdk's SlidingSync (MSC4186, the pinned 43.0.0
speaks the simplified protocol) lists the user's rooms with their names and receives a message
in real time (tests/e2e/js_sync/sliding_sync.mjs)."""

import json
import subprocess
from urllib.parse import quote

import pytest
import requests

from helpers.gunicorn_server import GunicornServer
from test_sync_js import js_sync  # noqa: F401  (the session fixture that installs js-sdk)

V3 = "/_matrix/client/v3"


@pytest.fixture
def server(database_url, tmp_path):
    with GunicornServer(database_url, tmp_path / "server", workers=2) as running:
        yield running


def _register(base, name):
    response = requests.post(f"{base}{V3}/register", json={
        "username": name, "password": "sliding sync password", "auth": {"type": "m.login.dummy"}},
        timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _call(base, user, method, path, body):
    response = requests.request(method, f"{base}{V3}{path}", json=body, timeout=30,
                                headers={"Authorization": f"Bearer {user['access_token']}"})
    assert response.status_code == 200, response.text
    return response.json()


def test_js_sdk_lists_rooms_and_receives_a_message(server, js_sync):  # noqa: F811
    base = server.base_url
    alice, bob = _register(base, "ss_alice"), _register(base, "ss_bob")
    rooms = []
    for name in ("first room", "second room"):
        room_id = _call(base, alice, "POST", "/createRoom",
                        {"name": name, "preset": "public_chat"})["room_id"]
        _call(base, bob, "POST", f"/join/{quote(room_id)}", {})
        rooms.append(room_id)
    js = subprocess.Popen(["node", "sliding_sync.mjs", base, bob["user_id"],
                           bob["access_token"], bob["device_id"]],
                          cwd=js_sync, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = js.stdout.readline()
        if not line:
            js.kill()
            raise AssertionError(js.communicate()[1][-3000:])
        listed = json.loads(line)
        assert listed["count"] == 2
        assert {(r["id"], r["name"]) for r in listed["rooms"]} == {
            (rooms[0], "first room"), (rooms[1], "second room")}
        _call(base, alice, "PUT", f"/rooms/{quote(rooms[0])}/send/m.room.message/live1",
              {"msgtype": "m.text", "body": "live message"})
        out, err = js.communicate(timeout=120)
    finally:
        if js.poll() is None:
            js.kill()
            js.communicate()
    assert js.returncode == 0, err[-3000:]
    got = json.loads(out.strip().splitlines()[-1])
    assert got == {"received": "live message", "sender": alice["user_id"], "room": rooms[0]}
