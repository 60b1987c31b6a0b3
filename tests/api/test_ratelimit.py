"""Rate limits on login and registration: token buckets in the database."""

import pytest

from homeserver import errors
from homeserver.services.policy import ratelimit

LOGIN = "/_matrix/client/v3/login"
REGISTER = "/_matrix/client/v3/register"
GENEROUS = {"per_second": 100, "burst": 1000}


def limited_app(make_app, **rules):
    limits = {"enabled": True, "login_per_ip": GENEROUS, "login_per_user": GENEROUS,
              "login_failures_per_user": GENEROUS, "register_per_ip": GENEROUS, **rules}
    return make_app(rate_limits=limits)


def login(client, user, password="pw", ip="203.0.113.1"):
    return client.post(LOGIN, environ_base={"REMOTE_ADDR": ip}, json={
        "type": "m.login.password", "password": password,
        "identifier": {"type": "m.id.user", "user": user}})


def register(client, username, ip="203.0.113.1"):
    return client.post(REGISTER, environ_base={"REMOTE_ADDR": ip}, json={
        "username": username, "password": "pw", "auth": {"type": "m.login.dummy"}})


def assert_limited(response, max_retry_ms):
    assert response.status_code == 429
    body = response.get_json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED"
    assert 0 < body["retry_after_ms"] <= max_retry_ms
    assert int(response.headers["Retry-After"]) == -(-body["retry_after_ms"] // 1000)


def test_login_per_ip(make_app, clock):
    client = limited_app(make_app, login_per_ip={"per_second": 0.5, "burst": 2}).test_client()
    register(client, "amy")
    assert login(client, "amy").status_code == 200
    assert login(client, "nobody").status_code == 403
    assert_limited(login(client, "amy"), 2000)
    # Another address has its own bucket.
    assert login(client, "amy", ip="203.0.113.2").status_code == 200
    clock.advance(2000)
    assert login(client, "amy").status_code == 200
    assert_limited(login(client, "amy"), 2000)


def test_login_per_user_across_addresses(make_app, clock):
    client = limited_app(make_app, login_per_user={"per_second": 0.1, "burst": 2}).test_client()
    register(client, "bob")
    assert login(client, "bob", ip="198.51.100.1").status_code == 200
    assert login(client, "BOB", ip="198.51.100.2").status_code == 200
    assert_limited(login(client, "@bob:localhost:8008", ip="198.51.100.3"), 10_000)
    clock.advance(10_000)
    assert login(client, "bob", ip="198.51.100.4").status_code == 200


def test_failed_logins_per_user(make_app, clock):
    client = limited_app(make_app,
                         login_failures_per_user={"per_second": 0.01, "burst": 3}).test_client()
    register(client, "cid")
    for _ in range(3):
        assert login(client, "cid", "wrong").status_code == 403
    # Even the right password waits now: guessing cannot go on.
    assert_limited(login(client, "cid"), 100_000)
    clock.advance(100_000)
    assert login(client, "cid").status_code == 200
    # Successful logins do not fill the failure bucket.
    assert login(client, "cid").status_code == 200


def test_failed_interactive_auth_counts_as_failed_login(make_app):
    client = limited_app(make_app,
                         login_failures_per_user={"per_second": 0.01, "burst": 2}).test_client()
    token = register(client, "dee").get_json()["access_token"]
    auth = {"type": "m.login.password", "password": "wrong",
            "identifier": {"type": "m.id.user", "user": "dee"}}
    headers = {"Authorization": f"Bearer {token}"}
    ip = {"REMOTE_ADDR": "203.0.113.1"}
    for _ in range(2):
        response = client.post("/_matrix/client/v3/delete_devices", headers=headers,
                               json={"devices": [], "auth": auth}, environ_base=ip)
        assert response.status_code == 401
    assert_limited(client.post("/_matrix/client/v3/delete_devices", headers=headers,
                               json={"devices": [], "auth": auth}, environ_base=ip), 100_000)
    assert_limited(login(client, "dee"), 100_000)
    # Failures count per address: the owner elsewhere is not locked out.
    assert login(client, "dee", ip="198.51.100.7").status_code == 200


def test_registration_per_ip(make_app, clock):
    client = limited_app(make_app, register_per_ip={"per_second": 0.2, "burst": 2}).test_client()
    assert register(client, "eve").status_code == 200
    assert register(client, "fay").status_code == 200
    assert_limited(register(client, "gus"), 5000)
    assert register(client, "gus", ip="192.0.2.9").status_code == 200
    clock.advance(5000)
    assert register(client, "gus2").status_code == 200


def test_everything_off_when_disabled(make_app):
    tight = {"per_second": 0.001, "burst": 1}
    client = make_app(rate_limits={"enabled": False, "login_per_ip": tight,
                                   "login_per_user": tight, "login_failures_per_user": tight,
                                   "register_per_ip": tight}).test_client()
    for n in range(3):
        assert register(client, f"user{n}").status_code == 200
    for _ in range(3):
        assert login(client, "user0", "wrong").status_code == 403
    assert login(client, "user0").status_code == 200


def test_check_is_reusable_by_other_areas(app, clock):
    rule = {"per_second": 1, "burst": 3}
    for _ in range(3):
        ratelimit.check("test_send", "@a:localhost:8008", rule)
    with pytest.raises(errors.LimitExceeded) as raised:
        ratelimit.check("test_send", "@a:localhost:8008", rule)
    assert raised.value.extra["retry_after_ms"] == 1000
    ratelimit.check("test_send", "@b:localhost:8008", rule)
    ratelimit.check("test_other", "@a:localhost:8008", rule)
    clock.advance(1500)
    ratelimit.check("test_send", "@a:localhost:8008", rule)
    ratelimit.check("anything", "key", None)  # no rule: no limit
    assert ratelimit.rule({"enabled": False, "x": rule}, "x") is None
    assert ratelimit.rule({"enabled": True, "x": rule}, "x") == rule
