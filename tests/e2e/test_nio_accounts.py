"""End to end through real gunicorn with matrix-nio: register, whoami, login on a second device,
device rename, profile, device deletion with user-interactive auth, password change (other
devices logged out) and logout. Runs on SQLite and on PostgreSQL (see gunicorn_server.py)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import requests

nio = pytest.importorskip("nio")
from nio import (AsyncClient, DeleteDevicesAuthResponse, DeleteDevicesResponse,  # noqa: E402
                 DevicesResponse, LoginError, LoginResponse, LogoutResponse,
                 ProfileGetResponse, ProfileSetDisplayNameResponse, RegisterResponse,
                 UpdateDeviceResponse, WhoamiResponse)

PASSWORD = "first password 123"
NEW_PASSWORD = "second password 456"


def _whoami_raw(base: str, token: str) -> requests.Response:
    return requests.get(f"{base}/_matrix/client/v3/account/whoami",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _password_auth(user_id: str, password: str, session: str) -> dict:
    return {"type": "m.login.password", "session": session, "password": password,
            "identifier": {"type": "m.id.user", "user": user_id}}


async def _change_password(client: AsyncClient, old: str, new: str) -> None:
    """POST /account/password with its UIA round trip (nio has no method for it)."""
    path = "/_matrix/client/v3/account/password"
    headers = {"Authorization": f"Bearer {client.access_token}",
               "Content-Type": "application/json"}
    request = {"new_password": new, "logout_devices": True}
    first = await client.send("POST", path, json.dumps(request), headers)
    assert first.status == 401
    challenge = await first.json()
    assert ["m.login.password"] in [flow["stages"] for flow in challenge["flows"]]
    # The same request again, now with the completed stage (the session is bound to it).
    body = {**request, "auth": _password_auth(client.user_id, old, challenge["session"])}
    second = await client.send("POST", path, json.dumps(body), headers)
    assert second.status == 200, await second.text()
    assert await second.json() == {}


async def _flow(base: str, server_name: str) -> None:
    localpart = f"nio_{uuid.uuid4().hex[:8]}"
    user_id = f"@{localpart}:{server_name}"
    phone = AsyncClient(base)
    laptop = AsyncClient(base, user_id)
    tablet = AsyncClient(base, user_id)
    try:
        # Register (nio sends m.login.dummy straight away, without a session).
        registered = await phone.register(localpart, PASSWORD, device_name="nio phone")
        assert isinstance(registered, RegisterResponse), registered
        assert registered.user_id == user_id
        phone_device = registered.device_id

        whoami = await phone.whoami()
        assert isinstance(whoami, WhoamiResponse), whoami
        assert (whoami.user_id, whoami.device_id) == (user_id, phone_device)

        # A second and third device log in with the password.
        logged_in = await laptop.login(PASSWORD, device_name="nio laptop")
        assert isinstance(logged_in, LoginResponse), logged_in
        laptop_device = logged_in.device_id
        assert laptop_device != phone_device
        assert isinstance(await tablet.login(PASSWORD, device_name="nio tablet"), LoginResponse)
        tablet_device = tablet.device_id

        devices = await phone.devices()
        assert isinstance(devices, DevicesResponse), devices
        names = {device.id: device.display_name for device in devices.devices}
        assert names == {phone_device: "nio phone", laptop_device: "nio laptop",
                         tablet_device: "nio tablet"}

        # Rename the laptop from the phone.
        renamed = await phone.update_device(laptop_device, {"display_name": "work laptop"})
        assert isinstance(renamed, UpdateDeviceResponse), renamed
        devices = await laptop.devices()
        assert {d.id: d.display_name for d in devices.devices}[laptop_device] == "work laptop"

        # Profile: display name defaults to the localpart; set it from the laptop.
        profile = await phone.get_profile(user_id)
        assert isinstance(profile, ProfileGetResponse), profile
        assert profile.displayname == localpart
        changed = await laptop.set_displayname("Nio Person")
        assert isinstance(changed, ProfileSetDisplayNameResponse), changed
        assert (await phone.get_profile(user_id)).displayname == "Nio Person"

        # Delete the tablet: user-interactive auth with the password.
        challenge = await phone.delete_devices([tablet_device])
        assert isinstance(challenge, DeleteDevicesAuthResponse), challenge
        deleted = await phone.delete_devices(
            [tablet_device], _password_auth(user_id, PASSWORD, challenge.session))
        assert isinstance(deleted, DeleteDevicesResponse), deleted
        assert _whoami_raw(base, tablet.access_token).json()["errcode"] == "M_UNKNOWN_TOKEN"

        # Change the password from the phone: the laptop is logged out, the phone is not.
        laptop_token = laptop.access_token
        await _change_password(phone, PASSWORD, NEW_PASSWORD)
        assert isinstance(await phone.whoami(), WhoamiResponse)
        gone = _whoami_raw(base, laptop_token)
        assert gone.status_code == 401 and gone.json()["errcode"] == "M_UNKNOWN_TOKEN"
        devices = await phone.devices()
        assert [d.id for d in devices.devices] == [phone_device]

        # Only the new password logs in.
        again = AsyncClient(base, user_id)
        try:
            refused = await again.login(PASSWORD)
            assert isinstance(refused, LoginError), refused
            assert refused.status_code == "M_FORBIDDEN"
            assert isinstance(await again.login(NEW_PASSWORD), LoginResponse)
            assert isinstance(await again.logout(), LogoutResponse)
        finally:
            await again.close()

        # Log out: the phone's token stops working.
        phone_token = phone.access_token
        assert isinstance(await phone.logout(), LogoutResponse)
        gone = _whoami_raw(base, phone_token)
        assert gone.status_code == 401 and gone.json()["errcode"] == "M_UNKNOWN_TOKEN"
    finally:
        for client in (phone, laptop, tablet):
            await client.close()


def test_nio_account_lifecycle(gunicorn_homeserver):
    asyncio.run(_flow(gunicorn_homeserver.base_url, gunicorn_homeserver.server_name))
