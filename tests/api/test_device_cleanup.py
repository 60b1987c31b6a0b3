"""What goes with a device when it is deleted or logs out."""

V3 = "/_matrix/client/v3"


def pusher(pushkey):
    return {"kind": "http", "app_id": "org.example.app", "pushkey": pushkey,
            "app_display_name": "Example", "device_display_name": "phone", "lang": "en",
            "data": {"url": "https://push.example.org/_matrix/push/v1/notify"}}


def login(client, user):
    response = client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user.user_id},
        "password": user.password})
    assert response.status_code == 200
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_logout_removes_the_devices_pushers(client, register_user):
    alice = register_user("alice")
    phone = login(client, alice)
    assert client.post(f"{V3}/pushers/set", json=pusher("phone-key"),
                       headers=phone).status_code == 200
    assert alice.post(f"{V3}/pushers/set", json=pusher("laptop-key")).status_code == 200
    assert len(alice.get(f"{V3}/pushers").get_json()["pushers"]) == 2

    assert client.post(f"{V3}/logout", headers=phone).status_code == 200

    keys = [p["pushkey"] for p in alice.get(f"{V3}/pushers").get_json()["pushers"]]
    assert keys == ["laptop-key"]
