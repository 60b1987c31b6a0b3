"""End to end through real gunicorn with matrix-nio: two users create a room, invite, join, send
and read messages back (/messages and /sync), read the room state, change the name and topic,
redact, kick (a private room needs a new invite to come back), ban, leave; an outsider is refused
everywhere. Runs on SQLite and on PostgreSQL (see gunicorn_server.py)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

nio = pytest.importorskip("nio")
from nio import (AsyncClient, ErrorResponse, JoinError, JoinResponse,  # noqa: E402
                 RedactedEvent, RegisterResponse, RoomBanResponse, RoomCreateResponse,
                 RoomGetEventResponse, RoomGetStateError, RoomGetStateEventError,
                 RoomGetStateEventResponse, RoomGetStateResponse, RoomInviteError,
                 RoomInviteResponse, RoomKickResponse, RoomLeaveResponse, RoomMessagesError,
                 RoomMessagesResponse, RoomMessageText, RoomPutStateError, RoomPutStateResponse,
                 RoomRedactResponse, RoomSendError, RoomSendResponse, SyncResponse)

PASSWORD = "room test password 123"


def _assert_refused(response, error_type, status: int = 403, errcode: str = "M_FORBIDDEN"):
    """nio turned a standard Matrix error response into ``error_type``."""
    assert isinstance(response, error_type), response
    assert isinstance(response, ErrorResponse)
    assert response.status_code == errcode, response
    assert response.transport_response.status == status


def _assert_state_event_refused(response, status: int, errcode: str):
    """room_get_state_event: matrix-nio (0.26) wraps some error bodies in a RoomGetStateEventResponse
    whose ``content`` is the error, so check the HTTP status and the body's errcode."""
    assert response.transport_response.status == status, response
    if isinstance(response, RoomGetStateEventError):
        assert response.status_code == errcode, response
    else:
        assert response.content["errcode"] == errcode, response


async def _register(client: AsyncClient, localpart: str) -> str:
    registered = await client.register(localpart, PASSWORD, device_name=f"{localpart} nio")
    assert isinstance(registered, RegisterResponse), registered
    return registered.user_id


async def _send_text(client: AsyncClient, room_id: str, body: str) -> str:
    sent = await client.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
    assert isinstance(sent, RoomSendResponse), sent
    assert sent.event_id.startswith("$")
    return sent.event_id


async def _texts(client: AsyncClient, room_id: str) -> dict[str, tuple[str, str]]:
    """event_id -> (sender, body) of the text messages /messages returns, newest first."""
    messages = await client.room_messages(room_id, limit=50)
    assert isinstance(messages, RoomMessagesResponse), messages
    return {event.event_id: (event.sender, event.body)
            for event in messages.chunk if isinstance(event, RoomMessageText)}


async def _state_event(client: AsyncClient, room_id: str, event_type: str, key: str = "") -> dict:
    got = await client.room_get_state_event(room_id, event_type, key)
    assert isinstance(got, RoomGetStateEventResponse), got
    return got.content


async def _flow(base: str) -> None:
    suffix = uuid.uuid4().hex[:8]
    alice, bob, eve = AsyncClient(base), AsyncClient(base), AsyncClient(base)
    try:
        alice_id = await _register(alice, f"alice_{suffix}")
        bob_id = await _register(bob, f"bob_{suffix}")
        await _register(eve, f"eve_{suffix}")

        # Alice creates a private room (join rule "invite") with a name and topic.
        created = await alice.room_create(name="Nio room", topic="first topic")
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        assert room_id.startswith("!")

        # Bob cannot join before he is invited; then alice invites him and he joins.
        _assert_refused(await bob.join(room_id), JoinError)
        assert isinstance(await alice.room_invite(room_id, bob_id), RoomInviteResponse)
        joined = await bob.join(room_id)
        assert isinstance(joined, JoinResponse), joined
        assert joined.room_id == room_id

        # Both send; both read both messages back through /messages.
        alice_hello = await _send_text(alice, room_id, "hello from alice")
        bob_hello = await _send_text(bob, room_id, "hello from bob")
        bob_secret = await _send_text(bob, room_id, "bob says something to redact")
        for reader in (alice, bob):
            texts = await _texts(reader, room_id)
            assert texts[alice_hello] == (alice_id, "hello from alice")
            assert texts[bob_hello] == (bob_id, "hello from bob")
            assert texts[bob_secret] == (bob_id, "bob says something to redact")

        # ... and through an initial /sync.
        synced = await bob.sync(timeout=0, full_state=True)
        assert isinstance(synced, SyncResponse), synced
        assert room_id in synced.rooms.join
        timeline_ids = [e.event_id for e in synced.rooms.join[room_id].timeline.events]
        assert {alice_hello, bob_hello, bob_secret} <= set(timeline_ids)
        assert timeline_ids.index(alice_hello) < timeline_ids.index(bob_hello)

        # Room state as created.
        state = await bob.room_get_state(room_id)
        assert isinstance(state, RoomGetStateResponse), state
        by_key = {(e["type"], e["state_key"]): e for e in state.events}
        assert by_key[("m.room.create", "")]["sender"] == alice_id
        assert by_key[("m.room.join_rules", "")]["content"]["join_rule"] == "invite"
        assert by_key[("m.room.member", alice_id)]["content"]["membership"] == "join"
        assert by_key[("m.room.member", bob_id)]["content"]["membership"] == "join"
        assert by_key[("m.room.name", "")]["content"] == {"name": "Nio room"}
        assert by_key[("m.room.topic", "")]["content"]["topic"] == "first topic"
        # Room version 12 (the default): the creator's power comes from the create event, so
        # she must not be listed in the power levels' users.
        assert by_key[("m.room.create", "")]["content"]["room_version"] == "12"
        power = await _state_event(bob, room_id, "m.room.power_levels")
        assert alice_id not in power.get("users", {})
        missing = await bob.room_get_state_event(room_id, "m.room.avatar")
        _assert_state_event_refused(missing, 404, "M_NOT_FOUND")

        # Alice renames the room and changes its topic; bob sees both. Bob (power 0) cannot.
        renamed = await alice.room_put_state(room_id, "m.room.name", {"name": "Renamed room"})
        assert isinstance(renamed, RoomPutStateResponse), renamed
        topic = await alice.room_put_state(room_id, "m.room.topic", {"topic": "second topic"})
        assert isinstance(topic, RoomPutStateResponse), topic
        assert await _state_event(bob, room_id, "m.room.name") == {"name": "Renamed room"}
        assert (await _state_event(bob, room_id, "m.room.topic"))["topic"] == "second topic"
        _assert_refused(await bob.room_put_state(room_id, "m.room.name", {"name": "Bob's"}),
                        RoomPutStateError)
        assert await _state_event(alice, room_id, "m.room.name") == {"name": "Renamed room"}
        changes = await bob.sync(timeout=0, since=synced.next_batch)
        assert isinstance(changes, SyncResponse), changes
        changed = [(e.source["type"], e.source["content"])
                   for e in changes.rooms.join[room_id].timeline.events]
        assert ("m.room.name", {"name": "Renamed room"}) in changed
        assert ("m.room.topic", {"topic": "second topic"}) in changed

        # Alice (the creator) redacts one of bob's messages.
        redacted = await alice.room_redact(room_id, bob_secret, reason="off topic")
        assert isinstance(redacted, RoomRedactResponse), redacted
        for reader in (alice, bob):
            event = await reader.room_get_event(room_id, bob_secret)
            assert isinstance(event, RoomGetEventResponse), event
            assert isinstance(event.event, RedactedEvent), event.event
            assert event.event.source["content"] == {}
            assert event.event.redacter == alice_id
            texts = await _texts(reader, room_id)
            assert bob_secret not in texts
            assert texts[bob_hello] == (bob_id, "hello from bob")

        # The outsider can read nothing, change nothing and send nothing.
        _assert_refused(await eve.room_messages(room_id), RoomMessagesError)
        _assert_refused(await eve.room_get_state(room_id), RoomGetStateError)
        _assert_state_event_refused(await eve.room_get_state_event(room_id, "m.room.name"),
                                    403, "M_FORBIDDEN")
        _assert_refused(await eve.room_send(room_id, "m.room.message",
                                            {"msgtype": "m.text", "body": "let me in"}),
                        RoomSendError)
        _assert_refused(await eve.room_put_state(room_id, "m.room.topic", {"topic": "eve"}),
                        RoomPutStateError)
        _assert_refused(await eve.join(room_id), JoinError)

        # Alice kicks bob: he can no longer send, and cannot rejoin a private room uninvited.
        kicked = await alice.room_kick(room_id, bob_id, reason="cool down")
        assert isinstance(kicked, RoomKickResponse), kicked
        member = await _state_event(alice, room_id, "m.room.member", bob_id)
        assert member["membership"] == "leave" and member["reason"] == "cool down"
        _assert_refused(await bob.room_send(room_id, "m.room.message",
                                            {"msgtype": "m.text", "body": "still here?"}),
                        RoomSendError)
        _assert_refused(await bob.join(room_id), JoinError)
        assert isinstance(await alice.room_invite(room_id, bob_id), RoomInviteResponse)
        assert isinstance(await bob.join(room_id), JoinResponse)
        await _send_text(bob, room_id, "back again")

        # Alice bans bob: he cannot join again, nor be invited.
        banned = await alice.room_ban(room_id, bob_id, reason="enough")
        assert isinstance(banned, RoomBanResponse), banned
        member = await _state_event(alice, room_id, "m.room.member", bob_id)
        assert member["membership"] == "ban"
        _assert_refused(await bob.join(room_id), JoinError)
        _assert_refused(await alice.room_invite(room_id, bob_id), RoomInviteError)
        _assert_refused(await bob.room_send(room_id, "m.room.message",
                                            {"msgtype": "m.text", "body": "banned"}),
                        RoomSendError)

        # Alice leaves: her membership is "leave" and she can no longer send.
        left = await alice.room_leave(room_id)
        assert isinstance(left, RoomLeaveResponse), left
        _assert_refused(await alice.room_send(room_id, "m.room.message",
                                              {"msgtype": "m.text", "body": "gone"}),
                        RoomSendError)
        after = await alice.sync(timeout=0)
        assert isinstance(after, SyncResponse), after
        assert room_id not in after.rooms.join
    finally:
        for client in (alice, bob, eve):
            await client.close()


def test_nio_room_lifecycle(gunicorn_homeserver):
    asyncio.run(_flow(gunicorn_homeserver.base_url))
