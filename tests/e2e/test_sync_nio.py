"""End to end through real gunicorn: two matrix-nio clients chat in one room through their normal
sync loops (nio validates every /sync and /messages response against its schemas), and one
scrolls back with /messages from its timeline's prev_batch to the room's first event."""

import asyncio
import uuid

import pytest

from helpers.gunicorn_server import GunicornServer

nio = pytest.importorskip("nio")
from nio import (AsyncClient, JoinResponse, RegisterResponse, RoomCreateResponse,  # noqa: E402
                 RoomMessagesResponse, RoomMessageText, RoomSendResponse, SyncResponse)

PASSWORD = "nio sync password"
HISTORY = 30


@pytest.fixture
def server(database_url, tmp_path):
    with GunicornServer(database_url, tmp_path / "server", workers=2) as running:
        yield running


async def _client(base: str, localpart: str) -> AsyncClient:
    client = AsyncClient(base, localpart)
    response = await client.register(localpart, PASSWORD)
    assert isinstance(response, RegisterResponse), response
    return client


async def _sync_until(client: AsyncClient, room_id: str, body: str) -> None:
    for _ in range(30):
        response = await client.sync(timeout=5000)
        assert isinstance(response, SyncResponse), response
        room = response.rooms.join.get(room_id)
        if room and any(isinstance(e, RoomMessageText) and e.body == body
                        for e in room.timeline.events):
            return
    raise AssertionError(f"{client.user_id} never saw {body!r}")


async def _flow(base: str) -> None:
    suffix = uuid.uuid4().hex[:6]
    alice = await _client(base, f"alice{suffix}")
    bob = await _client(base, f"bob{suffix}")
    try:
        created = await alice.room_create(name="nio chat", invite=[bob.user_id])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        first = await alice.sync(timeout=0)
        assert isinstance(first, SyncResponse), first
        await bob.sync(timeout=0)
        assert room_id in bob.invited_rooms
        assert isinstance(await bob.join(room_id), JoinResponse)

        # Each sees the other's messages through the sync loop.
        for i in range(3):
            sent = await alice.room_send(room_id, "m.room.message",
                                         {"msgtype": "m.text", "body": f"alice {i}"})
            assert isinstance(sent, RoomSendResponse), sent
            await _sync_until(bob, room_id, f"alice {i}")
            sent = await bob.room_send(room_id, "m.room.message",
                                       {"msgtype": "m.text", "body": f"bob {i}"})
            assert isinstance(sent, RoomSendResponse), sent
            await _sync_until(alice, room_id, f"bob {i}")

        for i in range(HISTORY):
            await alice.room_send(room_id, "m.room.message",
                                  {"msgtype": "m.text", "body": f"history {i}"})
        await _sync_until(bob, room_id, f"history {HISTORY - 1}")

        # Scrollback from a fresh login's initial sync reaches the room's creation.
        reader = AsyncClient(base, bob.user_id)
        await reader.login(PASSWORD)
        initial = await reader.sync(timeout=0)
        token = initial.rooms.join[room_id].timeline.prev_batch
        seen = [e for e in initial.rooms.join[room_id].timeline.events]
        for _ in range(100):
            page = await reader.room_messages(room_id, token, limit=10)
            assert isinstance(page, RoomMessagesResponse), page
            seen.extend(page.chunk)
            if not page.end:
                break
            token = page.end
        bodies = [e.body for e in seen if isinstance(e, RoomMessageText)]
        assert {f"history {i}" for i in range(HISTORY)} <= set(bodies)
        assert {f"alice {i}" for i in range(3)} <= set(bodies)
        types = [e.source.get("type") for e in seen]
        assert "m.room.create" in types
        await reader.close()
    finally:
        await alice.close()
        await bob.close()


def test_two_nio_clients_chat_and_scroll_back(server):
    asyncio.run(_flow(server.base_url))
