"""Pushers: GET /pushers, POST /pushers/set (create, update, append, delete with kind null)."""

import pytest

V3 = "/_matrix/client/v3"
GATEWAY = "https://push.example.org/_matrix/push/v1/notify"


def pusher_body(**overrides):
    body = {"kind": "http", "app_id": "org.example.app.ios", "pushkey": "key-1",
            "app_display_name": "Example", "device_display_name": "Alice's phone",
            "profile_tag": "xyz", "lang": "en-US",
            "data": {"url": GATEWAY, "format": "event_id_only", "custom": {"a": 1}}}
    body.update(overrides)
    return body


def test_set_and_list(register_user):
    alice = register_user("alice")
    assert alice.get(f"{V3}/pushers").get_json() == {"pushers": []}
    response = alice.post(f"{V3}/pushers/set", json=pusher_body())
    assert response.status_code == 200 and response.get_json() == {}
    pushers = alice.get(f"{V3}/pushers").get_json()["pushers"]
    assert pushers == [{
        "pushkey": "key-1", "kind": "http", "app_id": "org.example.app.ios",
        "app_display_name": "Example", "device_display_name": "Alice's phone",
        "profile_tag": "xyz", "lang": "en-US",
        "data": {"url": GATEWAY, "format": "event_id_only", "custom": {"a": 1}}}]
    # Setting again with the same app_id and pushkey updates it.
    alice.post(f"{V3}/pushers/set", json=pusher_body(lang="fr", profile_tag=None))
    pushers = alice.get(f"{V3}/pushers").get_json()["pushers"]
    assert len(pushers) == 1 and pushers[0]["lang"] == "fr"
    # Another pushkey is another pusher.
    alice.post(f"{V3}/pushers/set", json=pusher_body(pushkey="key-2"))
    assert len(alice.get(f"{V3}/pushers").get_json()["pushers"]) == 2


def test_delete_with_kind_null(register_user):
    alice = register_user("alice")
    alice.post(f"{V3}/pushers/set", json=pusher_body())
    alice.post(f"{V3}/pushers/set", json=pusher_body(pushkey="key-2"))
    response = alice.post(f"{V3}/pushers/set", json={"kind": None, "app_id": "org.example.app.ios",
                                                     "pushkey": "key-1"})
    assert response.status_code == 200
    assert [p["pushkey"] for p in alice.get(f"{V3}/pushers").get_json()["pushers"]] == ["key-2"]


def test_append_keeps_other_users_pushers(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    alice.post(f"{V3}/pushers/set", json=pusher_body())
    bob.post(f"{V3}/pushers/set", json=pusher_body(append=True))
    assert len(alice.get(f"{V3}/pushers").get_json()["pushers"]) == 1
    assert len(bob.get(f"{V3}/pushers").get_json()["pushers"]) == 1
    # Without append, the same app_id + pushkey of other users is removed.
    bob.post(f"{V3}/pushers/set", json=pusher_body(append=False))
    assert alice.get(f"{V3}/pushers").get_json()["pushers"] == []
    assert len(bob.get(f"{V3}/pushers").get_json()["pushers"]) == 1


def test_missing_parameters(register_user):
    alice = register_user("alice")
    for missing in ("app_display_name", "device_display_name", "lang", "data"):
        body = pusher_body()
        del body[missing]
        response = alice.post(f"{V3}/pushers/set", json=body)
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_MISSING_PARAM"
    for missing in ("kind", "app_id", "pushkey"):
        body = pusher_body()
        del body[missing]
        response = alice.post(f"{V3}/pushers/set", json=body)
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_MISSING_PARAM"
    no_url = alice.post(f"{V3}/pushers/set", json=pusher_body(data={"format": "event_id_only"}))
    assert no_url.status_code == 400 and no_url.get_json()["errcode"] == "M_MISSING_PARAM"
    assert alice.get(f"{V3}/pushers").get_json() == {"pushers": []}


@pytest.mark.parametrize("overrides", [
    {"kind": "email"}, {"kind": "carrier-pigeon"},
    {"data": {"url": "http://push.example.org/_matrix/push/v1/notify"}},
    {"data": {"url": "https://push.example.org/somewhere/else"}},
    {"data": {"url": "not a url"}},
    {"app_id": "x" * 65}, {"pushkey": "k" * 513},
])
def test_invalid_pushers(register_user, overrides):
    alice = register_user("alice")
    response = alice.post(f"{V3}/pushers/set", json=pusher_body(**overrides))
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"
    assert alice.get(f"{V3}/pushers").get_json() == {"pushers": []}


def test_bad_types(register_user):
    alice = register_user("alice")
    for overrides in ({"pushkey": 5}, {"append": "yes"}, {"data": "x"}, {"lang": None}):
        response = alice.post(f"{V3}/pushers/set", json=pusher_body(**overrides))
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_http_gateway_allowed_by_configuration(make_app):
    app = make_app(push={"allow_http_gateways": True})
    client = app.test_client()
    response = client.post(f"{V3}/register", json={
        "username": "alice", "password": "pw-123456", "auth": {"type": "m.login.dummy"}})
    token = response.get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = "http://127.0.0.1:9/_matrix/push/v1/notify"
    response = client.post(f"{V3}/pushers/set", headers=headers,
                           json=pusher_body(data={"url": url}))
    assert response.status_code == 200
    pushers = client.get(f"{V3}/pushers", headers=headers).get_json()["pushers"]
    assert pushers[0]["data"] == {"url": url}


def test_pushers_are_private(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    alice.post(f"{V3}/pushers/set", json=pusher_body(append=True))
    assert bob.get(f"{V3}/pushers").get_json() == {"pushers": []}
    # Bob deleting "the same" pusher deletes nothing of Alice's.
    bob.post(f"{V3}/pushers/set", json={"kind": None, "app_id": "org.example.app.ios",
                                        "pushkey": "key-1"})
    assert len(alice.get(f"{V3}/pushers").get_json()["pushers"]) == 1
