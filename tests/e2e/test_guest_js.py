"""End to end through real gunicorn: matrix-js-sdk as a guest (tests/e2e/js_sync/guest.mjs).
registerGuest() and the SDK's sync loop, joining a can_join room and sending to it, createRoom
refused with M_GUEST_ACCESS_FORBIDDEN, and peekInRoom() on a world_readable room: its history,
then a new message arriving through GET /events, without the guest becoming a member."""

import json
import subprocess
from urllib.parse import quote

import pytest
import requests

from helpers.gunicorn_server import GunicornServer
from test_sync_js import js_sync  # noqa: F401 - the fixture installing matrix-js-sdk

V3 = "/_matrix/client/v3"
HISTORY = 5


@pytest.fixture
def server(database_url, tmp_path):
    with GunicornServer(database_url, tmp_path / "server", workers=2,
                        registration={"enabled": True, "allow_guests": True}) as running:
        yield running


class Alice:
    def __init__(self, base: str):
        self.base = base
        body = requests.post(f"{base}{V3}/register", json={
            "username": "alice", "password": "alice's password",
            "auth": {"type": "m.login.dummy"}}, timeout=30).json()
        self.user_id = body["user_id"]
        self.headers = {"Authorization": f"Bearer {body['access_token']}"}
        self.txn = 0

    def call(self, method: str, path: str, body: dict) -> dict:
        response = requests.request(method, self.base + V3 + path, json=body,
                                    headers=self.headers, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def room(self, **state) -> str:
        room_id = self.call("POST", "/createRoom", {"preset": "public_chat"})["room_id"]
        for event_type, content in state.items():
            self.call("PUT", f"/rooms/{quote(room_id)}/state/{event_type}/", content)
        return room_id

    def say(self, room_id: str, text: str) -> str:
        self.txn += 1
        return self.call("PUT", f"/rooms/{quote(room_id)}/send/m.room.message/t{self.txn}",
                         {"msgtype": "m.text", "body": text})["event_id"]

    def members(self, room_id: str) -> dict:
        chunk = self.call("GET", f"/rooms/{quote(room_id)}/members", None)["chunk"]
        return {e["state_key"]: e["content"]["membership"] for e in chunk}


def test_js_sdk_guest_joins_sends_and_peeks(server, js_sync):  # noqa: F811
    alice = Alice(server.base_url)
    guest_room = alice.room(**{"m.room.guest_access": {"guest_access": "can_join"}})
    readable = alice.room(**{"m.room.history_visibility": {"history_visibility": "world_readable"}})
    for i in range(HISTORY):
        alice.say(readable, f"history {i}")

    js = subprocess.Popen(["node", "guest.mjs", server.base_url, guest_room, readable],
                          cwd=js_sync, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in js.stdout:
            lines.append(line.strip())
            if line.strip() == "send":  # the SDK is peeking: a new message for it to see
                alice.say(readable, "live message")
        js.wait(timeout=180)
        err = js.stderr.read()
    finally:
        if js.poll() is None:
            js.kill()
    assert js.returncode == 0, err[-3000:]
    seen = json.loads(lines[-1])
    assert seen["is_guest"] is True
    assert seen["create_room_error"] == "M_GUEST_ACCESS_FORBIDDEN"
    assert alice.members(guest_room)[seen["user_id"]] == "join"
    chunk = alice.call("GET", f"/rooms/{quote(guest_room)}/messages?dir=b&limit=1", None)["chunk"]
    assert [(e["event_id"], e["sender"]) for e in chunk] == [(seen["sent_event_id"],
                                                              seen["user_id"])]
    assert seen["peeked_history"][-HISTORY:] == [f"history {i}" for i in range(HISTORY)]
    assert seen["live_message_from"] == alice.user_id
    # Peeking left no trace in the room.
    assert seen["membership_while_peeking"] != "join"
    assert seen["user_id"] not in alice.members(readable)
