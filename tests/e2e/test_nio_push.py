"""End to end through real gunicorn with matrix-nio: B sees A typing, A's read receipt and A
online; B's unread count rises with A's messages, a mention of B highlights, both clear after
B's receipt; a pusher of B gets a notify for A's message at a gateway run by the test."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

nio = pytest.importorskip("nio")
from nio import (AsyncClient, JoinResponse, PresenceEvent, ReceiptEvent,  # noqa: E402
                 RegisterResponse, RoomCreateResponse, RoomSendResponse, SyncResponse,
                 TypingNoticeEvent)

from helpers.push_gateway import Gateway  # noqa: E402

PASSWORD = "push password 123"


async def _register(base: str) -> AsyncClient:
    localpart = f"nio_{uuid.uuid4().hex[:8]}"
    client = AsyncClient(base)
    registered = await client.register(localpart, PASSWORD, device_name="nio")
    assert isinstance(registered, RegisterResponse), registered
    return client


async def _sync(client: AsyncClient, since: str | None) -> SyncResponse:
    response = await client.sync(timeout=0, since=since)
    assert isinstance(response, SyncResponse), response
    return response


async def _sync_until(client: AsyncClient, since: str, found, attempts: int = 20):
    """Incremental (long-polling) syncs until ``found(response)`` returns something."""
    for _ in range(attempts):
        response = await client.sync(timeout=5000, since=since)
        assert isinstance(response, SyncResponse), response
        since = response.next_batch
        result = found(response)
        if result:
            return result, since
    raise AssertionError("never arrived")


def _ephemeral(response: SyncResponse, room_id: str) -> list:
    room = response.rooms.join.get(room_id)
    return room.ephemeral if room is not None else []


def _counts(response: SyncResponse, room_id: str):
    unread = response.rooms.join[room_id].unread_notifications
    return unread.notification_count, unread.highlight_count


async def _flow(base: str, gateway: Gateway) -> None:
    alice, bob = await _register(base), await _register(base)
    try:
        created = await alice.room_create(name="push room", invite=[bob.user_id])
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        assert isinstance(await bob.join(room_id), JoinResponse)

        # A pusher for Bob (nio has no method for it).
        body = {"kind": "http", "app_id": "org.example.nio", "pushkey": "bob-phone",
                "app_display_name": "nio", "device_display_name": "phone", "lang": "en",
                "data": {"url": gateway.url}}
        answer = await bob.send("POST", "/_matrix/client/v3/pushers/set", json.dumps(body),
                                {"Authorization": f"Bearer {bob.access_token}",
                                 "Content-Type": "application/json"})
        assert answer.status == 200, await answer.text()

        await _sync(alice, None)  # Alice's client syncs: she is online
        first = await _sync(bob, None)
        since = first.next_batch
        assert _counts(first, room_id) == (0, 0)
        online = [e for e in first.presence_events
                  if isinstance(e, PresenceEvent) and e.user_id == alice.user_id]
        assert online and online[0].presence == "online"

        # Typing.
        await alice.room_typing(room_id, True, timeout=30000)
        typing, since = await _sync_until(bob, since, lambda r: [
            e for e in _ephemeral(r, room_id)
            if isinstance(e, TypingNoticeEvent) and alice.user_id in e.users])
        assert typing

        # Messages raise Bob's count; a mention highlights.
        sent = await alice.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": "first message"})
        assert isinstance(sent, RoomSendResponse), sent
        await alice.room_send(room_id, "m.room.message", {
            "msgtype": "m.text", "body": "are you there?",
            "m.mentions": {"user_ids": [bob.user_id]}})
        last = await alice.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": "third"})
        counts, since = await _sync_until(
            bob, since, lambda r: room_id in r.rooms.join and _counts(r, room_id)[0] == 3
            and _counts(r, room_id))
        assert counts == (3, 1)

        # Alice's read receipt reaches Bob.
        await alice.update_receipt_marker(room_id, sent.event_id)
        receipts, since = await _sync_until(bob, since, lambda r: [
            receipt for e in _ephemeral(r, room_id) if isinstance(e, ReceiptEvent)
            for receipt in e.receipts if receipt.user_id == alice.user_id])
        assert receipts[0].event_id == sent.event_id

        # Bob's own receipt clears his counts.
        await bob.update_receipt_marker(room_id, last.event_id)
        counts, since = await _sync_until(
            bob, since, lambda r: room_id in r.rooms.join and _counts(r, room_id) == (0, 0))
        assert counts

        # The gateway heard about Alice's messages.
        received = gateway.wait_for(1)
        notification = received[0]["body"]["notification"]
        assert notification["room_id"] == room_id
        assert notification["sender"] == alice.user_id
        assert notification["devices"][0]["pushkey"] == "bob-phone"
    finally:
        await alice.close()
        await bob.close()


def test_nio_typing_receipts_presence_counts_and_push(start_gunicorn):
    gateway = Gateway()
    try:
        server = start_gunicorn(push={"allow_http_gateways": True,
                                      "ip_range_allowlist": ["127.0.0.1/32"]})
        asyncio.run(_flow(server.base_url, gateway))
    finally:
        gateway.close()
