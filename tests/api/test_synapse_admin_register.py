"""Shared-secret registration (GET/POST /_synapse/admin/v1/register), as register_new_matrix_user
and deployment scripts use it: a nonce, then an HMAC-SHA1 of the request keyed by the secret."""

import hashlib
import hmac

import pytest

from homeserver.services.accounts import shared_secret_registration
from helpers.api import error, ok

SECRET = "a shared secret of some length"
REGISTER = "/_synapse/admin/v1/register"
V3 = "/_matrix/client/v3"


@pytest.fixture
def app(make_app):
    return make_app(registration={"enabled": False, "shared_secret": SECRET})


def mac(nonce, username, password, admin=False, secret=SECRET):
    message = "\0".join((nonce, username, password, "admin" if admin else "notadmin"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha1).hexdigest()


def nonce(client):
    return ok(client.get(REGISTER))["nonce"]


def register(client, username, password="pw 123 456", admin=False, **override):
    value = nonce(client)
    body = {"nonce": value, "username": username, "password": password, "admin": admin,
            "mac": mac(value, username, password, admin), **override}
    return client.post(REGISTER, json=body)


def test_registers_and_logs_in_admins_too(client):
    user = ok(register(client, "Operator", admin=True, displayname="Ops"))
    assert user["user_id"] == "@operator:localhost:8008"
    assert user["home_server"] == "localhost:8008" and user["device_id"]
    headers = {"Authorization": f"Bearer {user['access_token']}"}
    assert ok(client.get(f"{V3}/account/whoami", headers=headers))["user_id"] == user["user_id"]
    assert ok(client.get(f"{V3}/profile/{user['user_id']}/displayname")) == {"displayname": "Ops"}
    assert client.get("/_synapse/admin/v2/users", headers=headers).status_code == 200
    plain = ok(register(client, "someone"))
    response = client.get("/_synapse/admin/v2/users",
                          headers={"Authorization": f"Bearer {plain['access_token']}"})
    assert response.status_code == 403
    error(register(client, "someone"), 400, "M_USER_IN_USE")


def test_wrong_mac_reused_or_expired_nonce_are_refused(client, clock):
    value = nonce(client)
    body = {"nonce": value, "username": "eve", "password": "pw 123 456", "admin": True,
            "mac": mac(value, "eve", "pw 123 456", admin=False)}
    error(client.post(REGISTER, json=body), 403, "M_FORBIDDEN")
    # The nonce is spent even by a failed attempt: no guessing on one nonce.
    body["mac"] = mac(value, "eve", "pw 123 456", admin=True)
    error(client.post(REGISTER, json=body), 400, "M_INVALID_PARAM")
    value = nonce(client)
    clock.advance(shared_secret_registration.NONCE_LIFETIME_MS + 1)
    body = {"nonce": value, "username": "eve", "password": "pw 123 456", "admin": False,
            "mac": mac(value, "eve", "pw 123 456")}
    error(client.post(REGISTER, json=body), 400, "M_INVALID_PARAM")
    error(register(client, "eve", mac="00" * 20), 403, "M_FORBIDDEN")
    error(register(client, "eve", user_type="bot"), 400, "M_BAD_JSON")
    assert client.post(REGISTER, json={"nonce": "x"}).status_code == 400
    assert client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "eve"},
        "password": "pw 123 456"}).status_code == 403


def test_outstanding_nonces_are_capped(client, monkeypatch):
    monkeypatch.setattr(shared_secret_registration, "MAX_LIVE_NONCES", 3)
    for _ in range(3):
        nonce(client)
    error(client.get(REGISTER), 429, "M_LIMIT_EXCEEDED")


def test_without_a_secret_it_is_refused(make_app):
    client = make_app(registration={"shared_secret": None}).test_client()
    error(client.get(REGISTER), 400, "M_INVALID_PARAM")
    error(client.post(REGISTER, json={"nonce": "n", "username": "u", "password": "p w",
                                      "mac": "00"}), 400, "M_INVALID_PARAM")
