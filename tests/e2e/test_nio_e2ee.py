"""End to end through gunicorn: two matrix-nio clients with encryption (vodozemac) in an
encrypted room. Each uploads keys, claims the other's, sends m.room.encrypted, and each
decrypts the other's message. A new login of one user shows up in the other's
device_lists.changed, and a to-device message survives a /sync response the client lost.
The same exchange with matrix-js-sdk and its Rust crypto (tests/e2e/js_e2ee/e2ee.mjs)."""

import asyncio
import json
import os
import shutil
import subprocess
import uuid

import pytest
import requests

nio = pytest.importorskip("nio")
if not nio.crypto.ENCRYPTION_ENABLED:  # pragma: no cover - the test extra installs vodozemac
    pytest.fail("matrix-nio was installed without encryption support (vodozemac)")

from nio import (AsyncClient, AsyncClientConfig, JoinResponse, LoginResponse,  # noqa: E402
                 MegolmEvent, RegisterResponse, RoomCreateResponse, RoomMessageText,
                 RoomSendResponse)

PASSWORD = "e2ee password 123"
V3 = "/_matrix/client/v3"


async def _new_client(base: str, localpart: str, store) -> AsyncClient:
    store.mkdir()
    client = AsyncClient(base, localpart, store_path=str(store),
                         config=AsyncClientConfig(encryption_enabled=True,
                                                  store_sync_tokens=True))
    registered = await client.register(localpart, PASSWORD)
    assert isinstance(registered, RegisterResponse), registered
    await client.logout()
    logged_in = await client.login(PASSWORD, device_name=f"{localpart} nio")
    assert isinstance(logged_in, LoginResponse), logged_in
    assert client.olm is not None
    return client


async def _sync(client: AsyncClient, rounds: int = 1):
    for _ in range(rounds):
        response = await client.sync(timeout=500, full_state=client.next_batch is None)
        assert not hasattr(response, "status_code") or response.status_code is None, response
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
    return response


def _texts(client: AsyncClient, room_id: str, events: list) -> list:
    return [e for e in events if isinstance(e, (RoomMessageText, MegolmEvent))]


async def _wait_for_text(client: AsyncClient, room_id: str, body: str):
    """Sync until the message with ``body`` arrives; return the event nio made of it."""
    for _ in range(20):
        response = await _sync(client)
        room = response.rooms.join.get(room_id)
        if room is None:
            continue
        for event in room.timeline.events:
            if isinstance(event, RoomMessageText) and event.body == body:
                return event
            if isinstance(event, MegolmEvent):
                return event
    raise AssertionError(f"{client.user_id} never received {body!r}")


async def _flow(base: str, tmp_path):
    suffix = uuid.uuid4().hex[:6]
    alice = await _new_client(base, f"alice_{suffix}", tmp_path / "alice")
    bob = await _new_client(base, f"bob_{suffix}", tmp_path / "bob")
    bob_laptop = None
    try:
        await _sync(alice)
        await _sync(bob)
        created = await alice.room_create(
            invite=[bob.user_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        await _sync(bob)
        joined = await bob.join(room_id)
        assert isinstance(joined, JoinResponse), joined
        await _sync(alice)
        await _sync(bob)
        assert alice.rooms[room_id].encrypted and bob.rooms[room_id].encrypted

        sent = await alice.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": "hello bob, secretly"},
                                     ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent
        raw = requests.get(f"{base}{V3}/rooms/{room_id}/event/{sent.event_id}",
                           headers={"Authorization": f"Bearer {bob.access_token}"}).json()
        assert raw["type"] == "m.room.encrypted"
        assert "hello" not in str(raw["content"])
        got = await _wait_for_text(bob, room_id, "hello bob, secretly")
        assert isinstance(got, RoomMessageText), f"bob could not decrypt: {got}"
        assert got.sender == alice.user_id and got.decrypted

        sent = await bob.room_send(room_id, "m.room.message",
                                   {"msgtype": "m.text", "body": "hi alice, also secret"},
                                   ignore_unverified_devices=True)
        assert isinstance(sent, RoomSendResponse), sent
        got = await _wait_for_text(alice, room_id, "hi alice, also secret")
        assert isinstance(got, RoomMessageText), f"alice could not decrypt: {got}"
        assert got.sender == bob.user_id and got.decrypted

        # A new login of bob's: alice's next sync lists bob in device_lists.changed.
        since = alice.next_batch
        (tmp_path / "bob_laptop").mkdir()
        bob_laptop = AsyncClient(base, bob.user_id, store_path=str(tmp_path / "bob_laptop"),
                                 config=AsyncClientConfig(encryption_enabled=True))
        logged_in = await bob_laptop.login(PASSWORD, device_name="bob laptop")
        assert isinstance(logged_in, LoginResponse), logged_in
        await _sync(bob_laptop)  # uploads the new device's keys
        changed = requests.get(f"{base}{V3}/sync?timeout=0&since={since}", headers={
            "Authorization": f"Bearer {alice.access_token}"}).json()
        assert bob.user_id in changed.get("device_lists", {}).get("changed", [])
        await _sync(alice)
        assert bob_laptop.device_id in alice.device_store[bob.user_id]
    finally:
        for client in (alice, bob, bob_laptop):
            if client is not None:
                await client.close()


def test_two_nio_clients_decrypt_each_other(gunicorn_homeserver, tmp_path):
    asyncio.run(_flow(gunicorn_homeserver.base_url, tmp_path))


def test_to_device_message_survives_a_lost_sync_response(gunicorn_homeserver):
    server = gunicorn_homeserver.base_url
    suffix = uuid.uuid4().hex[:6]
    tokens = {}
    for name in ("sender", "receiver"):
        response = requests.post(f"{server}{V3}/register", json={
            "username": f"{name}_{suffix}", "password": PASSWORD,
            "auth": {"type": "m.login.dummy"}})
        assert response.status_code == 200, response.text
        tokens[name] = response.json()
    receiver = tokens["receiver"]
    auth = {"Authorization": f"Bearer {receiver['access_token']}"}
    since = requests.get(f"{server}{V3}/sync?timeout=0", headers=auth).json()["next_batch"]
    response = requests.put(
        f"{server}{V3}/sendToDevice/m.test/{uuid.uuid4().hex}",
        headers={"Authorization": f"Bearer {tokens['sender']['access_token']}"},
        json={"messages": {receiver["user_id"]: {receiver["device_id"]: {"n": 1}}}})
    assert response.status_code == 200
    first = requests.get(f"{server}{V3}/sync?timeout=5000&since={since}", headers=auth).json()
    assert [e["content"] for e in first["to_device"]["events"]] == [{"n": 1}]
    # That response was "lost": the client syncs again from the same token.
    again = requests.get(f"{server}{V3}/sync?timeout=0&since={since}", headers=auth).json()
    assert [e["content"] for e in again["to_device"]["events"]] == [{"n": 1}]
    after = requests.get(f"{server}{V3}/sync?timeout=0&since={again['next_batch']}",
                         headers=auth).json()
    assert after.get("to_device", {}).get("events", []) == []


JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js_e2ee")


@pytest.fixture(scope="session")
def js_e2ee():
    """matrix-js-sdk (and matrix-sdk-crypto-wasm) from js_e2ee/package-lock.json, npm ci once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the matrix-js-sdk test")
    import fcntl
    with open(os.path.join(JS_DIR, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers install once
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "matrix-js-sdk")):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=JS_DIR, check=True, timeout=600)
    return JS_DIR


def test_matrix_js_sdk_rust_crypto_clients_decrypt_each_other(gunicorn_homeserver, js_e2ee):
    result = subprocess.run(["node", "e2ee.mjs", gunicorn_homeserver.base_url], cwd=js_e2ee,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"bob_decrypted": {"body": "hello bob from js", "encrypted": True},
                    "alice_decrypted": {"body": "hi alice from js", "encrypted": True}}
