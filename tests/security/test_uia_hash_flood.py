"""Hash flooding through user-interactive auth.

Every argon2 hash costs 64 MiB and tens of milliseconds. The attack: send the first leg of
/register or /account/password (no auth, a new password in the body) again and again, or
retry the password stage without end, so the server hashes for every request.
"""

import pytest

from homeserver.services.accounts import passwords

REGISTER = "/_matrix/client/v3/register"
PASSWORD = "/_matrix/client/v3/account/password"
DELETE_DEVICES = "/_matrix/client/v3/delete_devices"
GENEROUS = {"per_second": 100, "burst": 1000}
IP = {"REMOTE_ADDR": "203.0.113.9"}


class CountingHasher:
    def __init__(self, real):
        self.real = real
        self.hashes = 0
        self.verifies = 0

    def hash(self, password):
        self.hashes += 1
        return self.real.hash(password)

    def verify(self, password_hash, password):
        self.verifies += 1
        return self.real.verify(password_hash, password)


@pytest.fixture
def hasher(monkeypatch):
    counting = CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


def test_first_legs_hash_nothing(client, register_user, hasher):
    amy = register_user("amy")
    hasher.hashes = 0
    for n in range(20):
        first = client.post(REGISTER, json={"username": f"flood{n}", "password": "x" * 500})
        assert first.status_code == 401
        again = amy.post(PASSWORD, json={"new_password": "y" * 500})
        assert again.status_code == 401
    assert hasher.hashes == 0
    # A completed flow hashes once.
    session = first.get_json()["session"]
    done = client.post(REGISTER, json={"username": "flood19", "password": "x" * 500,
                                       "auth": {"type": "m.login.dummy", "session": session}})
    assert done.status_code == 200
    assert hasher.hashes == 1


def test_password_stage_is_limited_per_address(make_app, hasher):
    client = make_app(rate_limits={
        "enabled": True, "login_per_ip": {"per_second": 0.001, "burst": 3},
        "login_per_user": GENEROUS, "login_failures_per_user": GENEROUS,
        "register_per_ip": GENEROUS}).test_client()
    token = client.post(REGISTER, json={"username": "bo", "password": "pw",
                                        "auth": {"type": "m.login.dummy"}}
                        ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    auth = {"type": "m.login.password", "password": "guess",
            "identifier": {"type": "m.id.user", "user": "bo"}}
    hasher.verifies = hasher.hashes = 0
    answers = [client.post(PASSWORD, headers=headers, environ_base=IP, json={
        "new_password": "z", "auth": auth}).status_code for _ in range(10)]
    assert answers[:3] == [401] * 3
    assert set(answers[3:]) == {429}
    assert hasher.verifies == 3 and hasher.hashes == 0
