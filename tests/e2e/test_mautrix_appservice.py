"""End to end with a real bridge framework: mautrix-python's ``mautrix.appservice`` as the
application service on 127.0.0.1, against real gunicorn (2 workers), and a real user with
matrix-nio. The service registers a ghost, the user talks to it in a room, the service receives
the message in a transaction and the ghost replies (identity assertion), the user receives the
reply through /sync. Then the service goes down, messages are sent, and when it comes back it
receives them all, in order, once.

Encrypted bridges (mautrix's appservice encryption mode, ``encryption_events``): the service
creates a device of its ghost (MSC4190), acts as that device to upload keys (device
masquerading), and receives, through its transaction handlers, the one-time-key counts and
device-list change (MSC3202) and the to-device message the user sends that device (MSC2409).
Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import yaml

mautrix = pytest.importorskip("mautrix.appservice")
nio = pytest.importorskip("nio")
from mautrix.api import Method, Path  # noqa: E402
from mautrix.appservice.state_store.file import FileASStateStore  # noqa: E402
from mautrix.types import EventType  # noqa: E402
from nio import (AsyncClient, RoomCreateResponse, RoomMessageText, SyncResponse,  # noqa: E402
                 ToDeviceMessage)

from helpers.gunicorn_server import free_port  # noqa: E402
from helpers.keys import SigningKey  # noqa: E402

AS_TOKEN = "mautrix-as-token"
HS_TOKEN = "mautrix-hs-token"
# A safety net only: a step that does not happen by then has failed.
GIVE_UP_S = 60
# Retries come soon. A transaction sent while the bridge shuts down can be accepted and never
# answered (aiohttp closing its connections); the sender then waits out its timeout before
# the retry, so the timeout is short too (the default, 60 s, is GIVE_UP_S).
SENDER_CONFIG = {"app_service_max_backoff_ms": 1000, "app_service_timeout_s": 5.0}
# The ghost's device in the encrypted bridge's test.
DEVICE = "BRIDGEDEV"


def write_registration(path, as_port: int, **extra) -> str:
    path.write_text(yaml.safe_dump({
        "id": "mautrix-test", "url": f"http://127.0.0.1:{as_port}",
        "as_token": AS_TOKEN, "hs_token": HS_TOKEN, "sender_localpart": "bridgebot",
        "rate_limited": False,
        "namespaces": {"users": [{"exclusive": True,
                                  "regex": "@ghost_.*"}],
                       "aliases": [], "rooms": []},
        **extra,
    }))
    return str(path)


class Bridge:
    """A mautrix AppService that records the text messages it is sent, in order."""

    def __init__(self, server, as_port: int, store_path):
        self.server, self.as_port, self.store_path = server, as_port, store_path
        self.messages: list[tuple[str, str]] = []  # (event_id, body)
        self.arrived = asyncio.Event()
        self.service = None
        self.on_message = None

    async def start(self):
        self.service = mautrix.AppService(
            server=self.server.base_url, domain=self.server.server_name, as_token=AS_TOKEN,
            hs_token=HS_TOKEN, bot_localpart="bridgebot", id="mautrix-test",
            state_store=FileASStateStore(path=str(self.store_path), binary=False))

        async def handle(event):
            if event.type == EventType.ROOM_MESSAGE:
                self.messages.append((event.event_id, event.content.body))
                self.arrived.set()
                if self.on_message is not None:
                    await self.on_message(event)

        self.service.matrix_event_handler(handle)
        await self.service.start(host="127.0.0.1", port=self.as_port)
        return self

    async def stop(self):
        await self.service.stop()

    async def wait_for(self, condition):
        async def poll():
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()
        await asyncio.wait_for(poll(), GIVE_UP_S)


async def _scenario(server, tmp_path, as_port):
    bridge = await Bridge(server, as_port, tmp_path / "mx-state.json").start()
    ghost_id = f"@ghost_alice:{server.server_name}"
    ghost = bridge.service.intent.user(ghost_id)
    await ghost.ensure_registered()

    user = AsyncClient(server.base_url, "")
    try:
        await user.register("human", "human password 123")
        created = await user.room_create(invite=[ghost_id], name="Bridged chat")
        assert isinstance(created, RoomCreateResponse), created
        room_id = created.room_id
        await ghost.join_room_by_id(room_id)

        async def reply(event):
            if event.sender == user.user_id and event.content.body == "hello bridge":
                await ghost.send_text(room_id, "hello human")

        bridge.on_message = reply
        sent = await user.room_send(room_id, "m.room.message",
                                    {"msgtype": "m.text", "body": "hello bridge"})
        await bridge.wait_for(lambda: sent.event_id in [m[0] for m in bridge.messages])

        # The human sees the ghost's reply through /sync.
        async def reply_seen():
            since = None
            while True:
                synced = await user.sync(timeout=5000, since=since)
                assert isinstance(synced, SyncResponse), synced
                since = synced.next_batch
                room = synced.rooms.join.get(room_id)
                events = room.timeline.events if room else []
                if any(isinstance(e, RoomMessageText) and e.sender == ghost_id
                       and e.body == "hello human" for e in events):
                    return since
        since = await asyncio.wait_for(reply_seen(), GIVE_UP_S)
        assert since

        # The bridge goes down; messages sent meanwhile wait for it.
        await bridge.stop()
        while_down = []
        for n in range(5):
            response = await user.room_send(room_id, "m.room.message",
                                            {"msgtype": "m.text", "body": f"while down {n}"})
            while_down.append(response.event_id)
        back = await Bridge(server, as_port, tmp_path / "mx-state.json").start()
        try:
            await back.wait_for(lambda: set(while_down) <= {m[0] for m in back.messages})
            received = [m[0] for m in back.messages if m[0] in while_down]
            assert received == while_down  # all of them, in order, once
        finally:
            await back.stop()
    finally:
        await user.close()


def test_mautrix_bridge_end_to_end(start_gunicorn, tmp_path):
    as_port = free_port()
    path = write_registration(tmp_path / "registration.yaml", as_port)
    server = start_gunicorn(app_service_config_files=[path], **SENDER_CONFIG)
    asyncio.run(_scenario(server, tmp_path, as_port))


def signed_keys(user_id: str) -> dict:
    key = SigningKey()
    device_keys = key.sign({
        "user_id": user_id, "device_id": DEVICE,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{DEVICE}": key.public, f"curve25519:{DEVICE}": "Y3VydmU"},
    }, user_id, f"ed25519:{DEVICE}")
    otks = {f"signed_curve25519:K{n}": key.sign({"key": f"otk{n}"}, user_id, f"ed25519:{DEVICE}")
            for n in range(4)}
    return {"device_keys": device_keys, "one_time_keys": otks}


async def _encrypted_scenario(server, tmp_path, as_port):
    service = mautrix.AppService(
        server=server.base_url, domain=server.server_name, as_token=AS_TOKEN,
        hs_token=HS_TOKEN, bot_localpart="bridgebot", id="mautrix-test",
        state_store=FileASStateStore(path=str(tmp_path / "mx-state.json"), binary=False),
        ephemeral_events=True, encryption_events=True)
    to_device, otk_counts, device_lists = [], [], []
    arrived = asyncio.Event()

    def recorder(into):
        async def record(value):
            into.append(value)
            arrived.set()
        return record

    service.to_device_handler = recorder(to_device)
    service.otk_handler = recorder(otk_counts)
    service.device_list_handler = recorder(device_lists)

    async def until(condition):
        async def poll():
            while not condition():
                arrived.clear()
                await arrived.wait()
        await asyncio.wait_for(poll(), GIVE_UP_S)

    await service.start(host="127.0.0.1", port=as_port)
    user = AsyncClient(server.base_url, "")
    try:
        ghost_id = f"@ghost_crypto:{server.server_name}"
        ghost = service.intent.user(ghost_id)
        await ghost.ensure_registered()
        # MSC4190, as mautrix's create_device_msc4190 does it; then act as that device.
        await ghost.api.request(Method.PUT, Path.v3.devices[DEVICE], {"display_name": "bridge"})
        ghost.api.as_device_id = DEVICE
        await ghost.api.request(Method.POST, Path.v3.keys.upload, signed_keys(ghost_id))
        whoami = await ghost.api.request(Method.GET, Path.v3.account.whoami)
        assert whoami["device_id"] == DEVICE

        await until(lambda: any(ghost_id in counts for counts in otk_counts))
        counts = next(c for c in otk_counts if ghost_id in c)[ghost_id][DEVICE]
        assert counts.signed_curve25519 == 4
        await until(lambda: any(ghost_id in lists.changed for lists in device_lists))

        await user.register("cryptohuman", "human password 123")
        sent = await user.to_device(ToDeviceMessage("m.bridge.test", ghost_id, DEVICE,
                                                    {"secret": "for the bridge"}))
        assert not isinstance(sent, nio.ToDeviceError), sent
        await until(lambda: to_device)
        message = to_device[0]
        assert message.sender == user.user_id and message.to_user_id == ghost_id
        assert message.to_device_id == DEVICE and message.content["secret"] == "for the bridge"
    finally:
        await user.close()
        await service.stop()


def test_mautrix_encrypted_bridge_end_to_end(start_gunicorn, tmp_path):
    as_port = free_port()
    # What a mautrix bridge's registration says in appservice encryption mode.
    path = write_registration(tmp_path / "registration.yaml", as_port, receive_ephemeral=True,
                              **{"de.sorunome.msc2409.push_ephemeral": True,
                                 "org.matrix.msc3202": True, "io.element.msc4190": True})
    server = start_gunicorn(app_service_config_files=[path], **SENDER_CONFIG)
    asyncio.run(_encrypted_scenario(server, tmp_path, as_port))
