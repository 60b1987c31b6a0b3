"""Client Config (account data), global and per room; the ignored-users list; m.direct."""

import pytest

V3 = "/_matrix/client/v3"
ROOM = "!someroom:localhost:8008"


def test_global_account_data_round_trip(register_user):
    alice = register_user("alice")
    path = f"{V3}/user/{alice.user_id}/account_data/org.example.custom"
    assert alice.get(path).status_code == 404
    assert alice.get(path).get_json()["errcode"] == "M_NOT_FOUND"
    response = alice.put(path, json={"custom_key": "value", "n": [1, 2]})
    assert response.status_code == 200 and response.get_json() == {}
    assert alice.get(path).get_json() == {"custom_key": "value", "n": [1, 2]}
    alice.put(path, json={"replaced": True})
    assert alice.get(path).get_json() == {"replaced": True}


def test_room_account_data_is_separate_from_global(register_user):
    alice = register_user("alice")
    room_path = f"{V3}/user/{alice.user_id}/rooms/{ROOM}/account_data/org.example.x"
    global_path = f"{V3}/user/{alice.user_id}/account_data/org.example.x"
    assert alice.put(room_path, json={"scope": "room"}).status_code == 200
    assert alice.get(room_path).get_json() == {"scope": "room"}
    # No inheritance between room and global account data.
    assert alice.get(global_path).status_code == 404
    other_room = f"{V3}/user/{alice.user_id}/rooms/!other:localhost:8008/account_data/org.example.x"
    missing = alice.get(other_room)
    assert missing.status_code == 404 and missing.get_json()["errcode"] == "M_NOT_FOUND"


def test_only_your_own_account_data(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    path = f"{V3}/user/{alice.user_id}/account_data/org.example.secret"
    alice.put(path, json={"secret": 1})
    for response in (bob.get(path), bob.put(path, json={"x": 1}),
                     bob.get(f"{V3}/user/{alice.user_id}/rooms/{ROOM}/account_data/t"),
                     bob.put(f"{V3}/user/{alice.user_id}/rooms/{ROOM}/account_data/t", json={})):
        assert response.status_code == 403
        assert response.get_json()["errcode"] == "M_FORBIDDEN"
    assert alice.get(path).get_json() == {"secret": 1}


def test_requires_authentication(client, register_user):
    alice = register_user("alice")
    response = client.get(f"{V3}/user/{alice.user_id}/account_data/x")
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


@pytest.mark.parametrize("data_type", ["m.fully_read", "m.push_rules"])
def test_server_managed_types_are_refused(register_user, data_type):
    alice = register_user("alice")
    for path in (f"{V3}/user/{alice.user_id}/account_data/{data_type}",
                 f"{V3}/user/{alice.user_id}/rooms/{ROOM}/account_data/{data_type}"):
        response = alice.put(path, json={"event_id": "$x"})
        assert response.status_code == 405
        assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_push_rules_are_readable_as_account_data(register_user):
    alice = register_user("alice")
    response = alice.get(f"{V3}/user/{alice.user_id}/account_data/m.push_rules")
    assert response.status_code == 200
    rules = response.get_json()["global"]
    assert rules["override"][0]["rule_id"] == ".m.rule.master"
    assert rules == alice.get(f"{V3}/pushrules/").get_json()["global"]


def test_bad_bodies(register_user):
    alice = register_user("alice")
    path = f"{V3}/user/{alice.user_id}/account_data/org.example.x"
    not_json = alice.put(path, data=b"{nope", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and not_json.get_json()["errcode"] == "M_NOT_JSON"
    not_object = alice.put(path, json=[1, 2])
    assert not_object.status_code == 400 and not_object.get_json()["errcode"] == "M_BAD_JSON"


def test_invalid_room_id(register_user):
    alice = register_user("alice")
    for response in (
            alice.put(f"{V3}/user/{alice.user_id}/rooms/@notaroom:x/account_data/t", json={}),
            alice.get(f"{V3}/user/{alice.user_id}/rooms/notaroom/account_data/t")):
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_INVALID_PARAM"


def test_ignored_user_list_and_direct_round_trip(register_user):
    alice = register_user("alice")
    ignore = {"ignored_users": {"@spammer:localhost:8008": {}}}
    path = f"{V3}/user/{alice.user_id}/account_data/m.ignored_user_list"
    assert alice.put(path, json=ignore).status_code == 200
    assert alice.get(path).get_json() == ignore
    bad = alice.put(path, json={"ignored_users": ["@spammer:localhost:8008"]})
    assert bad.status_code == 400 and bad.get_json()["errcode"] == "M_BAD_JSON"
    direct = {"@bob:localhost:8008": ["!dm1:localhost:8008", "!dm2:localhost:8008"]}
    direct_path = f"{V3}/user/{alice.user_id}/account_data/m.direct"
    assert alice.put(direct_path, json=direct).status_code == 200
    assert alice.get(direct_path).get_json() == direct


def test_ignored_users_service_follows_account_data(app, register_user):
    from homeserver.services.userdata.account_data import ignored_users, users_ignoring
    alice = register_user("alice")
    path = f"{V3}/user/{alice.user_id}/account_data/m.ignored_user_list"
    alice.put(path, json={"ignored_users": {"@a:localhost:8008": {}, "@b:localhost:8008": {},
                                            alice.user_id: {}, "not a user": {}}})
    with app.app_context():
        assert ignored_users(alice.user_id) == {"@a:localhost:8008", "@b:localhost:8008"}
        assert users_ignoring("@a:localhost:8008") == {alice.user_id}
    alice.put(path, json={"ignored_users": {"@b:localhost:8008": {}}})
    with app.app_context():
        assert ignored_users(alice.user_id) == {"@b:localhost:8008"}
        assert users_ignoring("@a:localhost:8008") == set()
