"""End to end for encrypted bridges, with mautrix-python's ``mautrix.appservice`` as the service
(``encryption_events``, as its appservice encryption mode runs it) against real gunicorn, and a
real user with matrix-nio: the service creates a device of its ghost (MSC4190), acts as that
device to upload keys (device masquerading), and receives, through its transaction handlers,
the one-time-key counts and device-list change (MSC3202) and the to-device message the user
sends that device (MSC2409). Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
import yaml

mautrix = pytest.importorskip("mautrix.appservice")
nio = pytest.importorskip("nio")
from mautrix.api import Method, Path  # noqa: E402
from mautrix.appservice.state_store.file import FileASStateStore  # noqa: E402
from nio import AsyncClient, ToDeviceMessage  # noqa: E402

from helpers.gunicorn_server import free_port  # noqa: E402
from helpers.keys import SigningKey  # noqa: E402

AS_TOKEN = "mautrix-e2ee-as-token"
HS_TOKEN = "mautrix-e2ee-hs-token"
DEVICE = "BRIDGEDEV"
# A safety net only: a step that does not happen by then has failed.
GIVE_UP_S = 60


def write_registration(path, as_port: int) -> str:
    path.write_text(yaml.safe_dump({
        "id": "mautrix-e2ee", "url": f"http://127.0.0.1:{as_port}",
        "as_token": AS_TOKEN, "hs_token": HS_TOKEN, "sender_localpart": "cryptobot",
        "rate_limited": False,
        # What a mautrix bridge's registration says in appservice encryption mode.
        "receive_ephemeral": True, "de.sorunome.msc2409.push_ephemeral": True,
        "org.matrix.msc3202": True, "io.element.msc4190": True,
        "namespaces": {"users": [{"exclusive": True, "regex": "@ghost_.*"}],
                       "aliases": [], "rooms": []},
    }))
    return str(path)


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


async def _scenario(server, tmp_path, as_port):
    service = mautrix.AppService(
        server=server.base_url, domain=server.server_name, as_token=AS_TOKEN,
        hs_token=HS_TOKEN, bot_localpart="cryptobot", id="mautrix-e2ee",
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
    path = write_registration(tmp_path / "registration.yaml", as_port)
    server = start_gunicorn(app_service_config_files=[path], app_service_max_backoff_ms=1000)
    asyncio.run(_scenario(server, tmp_path, as_port))
