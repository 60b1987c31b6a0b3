"""Presence: PUT/GET /presence/{userId}/status, idle and offline timeouts, the config switch."""

V3 = "/_matrix/client/v3"


def status_path(user):
    return f"{V3}/presence/{user.user_id}/status"


def test_set_and_get_own_presence(register_user):
    alice = register_user("alice")
    assert alice.get(status_path(alice)).get_json() == {"presence": "offline"}
    response = alice.put(status_path(alice), json={"presence": "online", "status_msg": "Here"})
    assert response.status_code == 200 and response.get_json() == {}
    body = alice.get(status_path(alice)).get_json()
    assert body["presence"] == "online" and body["status_msg"] == "Here"
    assert body["currently_active"] is True and 0 <= body["last_active_ago"] < 60_000
    alice.put(status_path(alice), json={"presence": "unavailable"})
    body = alice.get(status_path(alice)).get_json()
    # No status_msg key at all when none is set (a null breaks matrix-nio).
    assert body["presence"] == "unavailable" and "status_msg" not in body
    assert "currently_active" not in body


def test_cannot_set_presence_of_others(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    response = bob.put(status_path(alice), json={"presence": "offline"})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"


def test_presence_of_strangers_and_unknown_users(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    alice.put(status_path(alice), json={"presence": "online"})
    hidden = bob.get(status_path(alice))
    assert hidden.status_code == 403 and hidden.get_json()["errcode"] == "M_FORBIDDEN"
    missing = bob.get(f"{V3}/presence/@nobody:localhost:8008/status")
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"


def test_bad_bodies(register_user):
    alice = register_user("alice")
    for body in ({}, {"presence": "asleep"}, {"presence": "online", "status_msg": 5}):
        response = alice.put(status_path(alice), json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"


def test_idle_then_offline(register_user, clock, make_app):
    alice = register_user("alice")
    alice.put(status_path(alice), json={"presence": "online"})
    # Presence updates count as a connected client; without further activity the user goes
    # idle after presence.idle_after_ms and offline after presence.offline_after_ms.
    clock.advance(30_000)
    body = alice.get(status_path(alice)).get_json()
    assert body["presence"] == "online" and body["currently_active"] is True
    clock.advance(40_000)
    assert alice.get(status_path(alice)).get_json()["presence"] == "offline"


def test_idle_while_connected(make_app, clock):
    app = make_app(presence={"idle_after_ms": 10_000, "offline_after_ms": 3_600_000})
    client = app.test_client()
    token = client.post(f"{V3}/register", json={
        "username": "carol", "password": "pw-123456", "auth": {"type": "m.login.dummy"}},
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{V3}/presence/@carol:localhost:8008/status"
    client.put(path, headers=headers, json={"presence": "online"})
    clock.advance(11_000)
    body = client.get(path, headers=headers).get_json()
    assert body["presence"] == "unavailable" and body["last_active_ago"] >= 11_000


def test_presence_disabled(make_app):
    app = make_app(presence={"enabled": False})
    client = app.test_client()
    token = client.post(f"{V3}/register", json={
        "username": "dave", "password": "pw-123456", "auth": {"type": "m.login.dummy"}},
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    path = f"{V3}/presence/@dave:localhost:8008/status"
    assert client.put(path, headers=headers, json={"presence": "online"}).status_code == 200
    response = client.get(path, headers=headers)
    assert response.status_code == 404 and response.get_json()["errcode"] == "M_NOT_FOUND"
