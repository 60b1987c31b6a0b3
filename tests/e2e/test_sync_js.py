"""End to end through real gunicorn: a matrix-js-sdk client (tests/e2e/js_sync/sync.mjs) and a
matrix-nio client in one room. Each sees the other's message through its normal sync loop, and
js-sdk's scrollback reaches the first event of the room."""

import asyncio
import fcntl
import json
import os
import shutil
import subprocess
import uuid

import pytest

from helpers.gunicorn_server import GunicornServer

nio = pytest.importorskip("nio")
from nio import AsyncClient, RegisterResponse, RoomCreateResponse, RoomMessageText  # noqa: E402

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js_sync")
HISTORY = 40


@pytest.fixture(scope="session")
def js_sync():
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the matrix-js-sdk test")
    with open(os.path.join(JS_DIR, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "matrix-js-sdk")):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=JS_DIR, check=True, timeout=600)
    return JS_DIR


@pytest.fixture
def server(database_url, tmp_path):
    with GunicornServer(database_url, tmp_path / "server", workers=2) as running:
        yield running


async def _nio_side(base: str, js: subprocess.Popen) -> str:
    alice = AsyncClient(base, f"nio{uuid.uuid4().hex[:6]}")
    try:
        assert isinstance(await alice.register(alice.user, "nio password 1"), RegisterResponse)
        created = await alice.room_create(name="js and nio", preset=nio.RoomPreset.public_chat)
        assert isinstance(created, RoomCreateResponse), created
        for i in range(HISTORY):
            await alice.room_send(created.room_id, "m.room.message",
                                  {"msgtype": "m.text", "body": f"history {i}"})
        await alice.sync(timeout=0)
        js.stdin.write(created.room_id + "\n")
        js.stdin.flush()
        for _ in range(60):
            response = await alice.sync(timeout=3000)
            room = response.rooms.join.get(created.room_id)
            if room and any(isinstance(e, RoomMessageText) and e.body == "hello nio from js"
                            for e in room.timeline.events):
                await alice.room_send(created.room_id, "m.room.message",
                                      {"msgtype": "m.text", "body": "hello js from nio"})
                return alice.user_id
        raise AssertionError("nio never saw the js-sdk message")
    finally:
        await alice.close()


def test_js_sdk_and_nio_chat_and_js_scrolls_back(server, js_sync):
    # The room ID reaches the script on stdin once nio has made it.
    js = subprocess.Popen(["node", "sync.mjs", server.base_url],
                          cwd=js_sync, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    try:
        nio_user = asyncio.run(_nio_side(server.base_url, js))
        out, err = js.communicate(timeout=180)
    finally:
        if js.poll() is None:
            js.kill()
    assert js.returncode == 0, err[-3000:]
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen["answered_by"] == nio_user
    assert seen["first_type"] == "m.room.create"
    assert seen["duplicates"] == 0
    assert seen["bodies"][:HISTORY] == [f"history {i}" for i in range(HISTORY)]
    assert "hello nio from js" in seen["bodies"] and "hello js from nio" in seen["bodies"]
