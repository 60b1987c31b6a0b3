"""Profiles (spec: Profiles): GET /profile/{userId}, GET/PUT/DELETE /profile/{userId}/{keyName}."""

from urllib.parse import quote

import pytest

from homeserver.models.users import User

V3 = "/_matrix/client/v3"


def profile_path(user_id, key=None):
    path = f"{V3}/profile/{quote(user_id, safe='')}"
    return f"{path}/{quote(key, safe='')}" if key is not None else path


def assert_error(response, status, errcode):
    assert response.status_code == status, response.get_json()
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert body["errcode"] == errcode, body
    assert isinstance(body["error"], str)


@pytest.fixture
def alice(register_user):
    return register_user("alice")


def test_new_user_profile_has_localpart_as_displayname(client, alice):
    response = client.get(profile_path(alice.user_id))
    assert response.status_code == 200
    assert response.get_json() == {"displayname": "alice"}


def test_set_and_read_displayname_and_avatar(client, alice):
    assert alice.put(profile_path(alice.user_id, "displayname"),
                     json={"displayname": "Alice Liddell"}).status_code == 200
    assert alice.put(profile_path(alice.user_id, "avatar_url"),
                     json={"avatar_url": "mxc://localhost:8008/abcDEF_12-3"}).status_code == 200
    # Reading a profile needs no token.
    assert client.get(profile_path(alice.user_id, "displayname")).get_json() == {
        "displayname": "Alice Liddell"}
    assert client.get(profile_path(alice.user_id, "avatar_url")).get_json() == {
        "avatar_url": "mxc://localhost:8008/abcDEF_12-3"}
    assert client.get(profile_path(alice.user_id)).get_json() == {
        "displayname": "Alice Liddell", "avatar_url": "mxc://localhost:8008/abcDEF_12-3"}


def test_put_returns_empty_object(alice):
    response = alice.put(profile_path(alice.user_id, "displayname"), json={"displayname": "A"})
    assert response.status_code == 200
    assert response.get_json() == {}


def test_body_without_content_type_is_accepted(client, alice):
    response = alice.put(profile_path(alice.user_id, "displayname"),
                         data=b'{"displayname": "Plain"}')
    assert response.status_code == 200
    assert client.get(profile_path(alice.user_id, "displayname")).get_json() == {
        "displayname": "Plain"}


def test_empty_displayname_removes_it(client, alice):
    assert alice.put(profile_path(alice.user_id, "displayname"),
                     json={"displayname": ""}).status_code == 200
    assert_error(client.get(profile_path(alice.user_id, "displayname")), 404, "M_NOT_FOUND")
    assert client.get(profile_path(alice.user_id)).get_json() == {}


def test_delete_displayname(client, alice):
    assert alice.delete(profile_path(alice.user_id, "displayname")).status_code == 200
    assert_error(client.get(profile_path(alice.user_id, "displayname")), 404, "M_NOT_FOUND")
    # Deleting what is not there is fine.
    response = alice.delete(profile_path(alice.user_id, "displayname"))
    assert response.status_code == 200
    assert response.get_json() == {}


def test_cannot_change_someone_elses_profile(client, alice, register_user):
    bob = register_user("bob")
    assert_error(bob.put(profile_path(alice.user_id, "displayname"),
                         json={"displayname": "Mallory"}), 403, "M_FORBIDDEN")
    assert_error(bob.delete(profile_path(alice.user_id, "displayname")), 403, "M_FORBIDDEN")
    assert_error(bob.put(profile_path(alice.user_id, "org.example.field"),
                         json={"org.example.field": 1}), 403, "M_FORBIDDEN")
    assert client.get(profile_path(alice.user_id)).get_json() == {"displayname": "alice"}


def test_changing_needs_a_token(client, alice):
    response = client.put(profile_path(alice.user_id, "displayname"), json={"displayname": "x"})
    assert_error(response, 401, "M_MISSING_TOKEN")
    response = client.put(profile_path(alice.user_id, "displayname"), json={"displayname": "x"},
                          headers={"Authorization": "Bearer not-a-token"})
    assert_error(response, 401, "M_UNKNOWN_TOKEN")
    assert_error(client.delete(profile_path(alice.user_id, "displayname")), 401, "M_MISSING_TOKEN")


def test_unknown_user_is_not_found(client, alice):
    assert_error(client.get(profile_path("@nobody:localhost:8008")), 404, "M_NOT_FOUND")
    assert_error(client.get(profile_path("@nobody:localhost:8008", "displayname")),
                 404, "M_NOT_FOUND")
    # Remote users: there is no federation to ask.
    assert_error(client.get(profile_path("@alice:elsewhere.example")), 404, "M_NOT_FOUND")


def test_invalid_user_id_is_invalid_param(client, alice):
    assert_error(client.get(profile_path("@no-server-name")), 400, "M_INVALID_PARAM")
    assert_error(alice.put(profile_path("@no-server-name", "displayname"),
                           json={"displayname": "x"}), 400, "M_INVALID_PARAM")


def test_deactivated_user_profile_is_not_found(client, alice):
    User.update(deactivated=True).where(User.user_id == alice.user_id).execute()
    assert_error(client.get(profile_path(alice.user_id)), 404, "M_NOT_FOUND")


def test_user_id_with_slash_in_localpart(client, register_user):
    carol = register_user("carol/x")
    assert carol.user_id == "@carol/x:localhost:8008"
    assert carol.put(profile_path(carol.user_id, "displayname"),
                     json={"displayname": "Carol"}).status_code == 200
    assert client.get(profile_path(carol.user_id)).get_json() == {"displayname": "Carol"}
    assert client.get(profile_path(carol.user_id, "displayname")).get_json() == {
        "displayname": "Carol"}


@pytest.mark.parametrize("body, errcode", [
    ({"other": "x"}, "M_MISSING_PARAM"),
    ({}, "M_MISSING_PARAM"),
    ({"displayname": None}, "M_BAD_JSON"),
    ({"displayname": 12}, "M_BAD_JSON"),
    ({"displayname": "x" * 257}, "M_INVALID_PARAM"),
])
def test_bad_displayname_bodies(alice, body, errcode):
    assert_error(alice.put(profile_path(alice.user_id, "displayname"), json=body), 400, errcode)


@pytest.mark.parametrize("value, errcode", [
    ("https://example.com/a.png", "M_INVALID_PARAM"),
    ("mxc://localhost:8008/", "M_INVALID_PARAM"),
    ("mxc://localhost:8008/../etc", "M_INVALID_PARAM"),
    ("mxc://bad server/abc", "M_INVALID_PARAM"),
    (None, "M_BAD_JSON"),
    (["mxc://localhost/abc"], "M_BAD_JSON"),
])
def test_bad_avatar_urls(alice, value, errcode):
    response = alice.put(profile_path(alice.user_id, "avatar_url"), json={"avatar_url": value})
    assert_error(response, 400, errcode)


def test_not_json_bodies(alice):
    path = profile_path(alice.user_id, "displayname")
    assert_error(alice.put(path, data=b"{not json", content_type="application/json"),
                 400, "M_NOT_JSON")
    assert_error(alice.put(path, json=["displayname"]), 400, "M_BAD_JSON")


def test_custom_fields_round_trip(client, alice):
    fields = {"m.tz": "Europe/London", "org.example.job_title": "Rabbit-hole explorer",
              "com.example.prefs": {"colours": ["red", "blue"], "n": 3, "ok": True},
              "io.example.nothing": None}
    for key, value in fields.items():
        response = alice.put(profile_path(alice.user_id, key), json={key: value})
        assert response.status_code == 200, response.get_json()
    for key, value in fields.items():
        assert client.get(profile_path(alice.user_id, key)).get_json() == {key: value}
    assert client.get(profile_path(alice.user_id)).get_json() == {"displayname": "alice",
                                                                  **fields}


def test_custom_field_overwrite_and_delete(client, alice):
    path = profile_path(alice.user_id, "org.example.mood")
    assert alice.put(path, json={"org.example.mood": "happy"}).status_code == 200
    assert alice.put(path, json={"org.example.mood": "curious"}).status_code == 200
    assert client.get(path).get_json() == {"org.example.mood": "curious"}
    assert alice.delete(path).status_code == 200
    assert_error(client.get(path), 404, "M_NOT_FOUND")
    assert "org.example.mood" not in client.get(profile_path(alice.user_id)).get_json()
    assert alice.delete(path).status_code == 200


def test_missing_custom_field_is_not_found(client, alice):
    assert_error(client.get(profile_path(alice.user_id, "org.example.unset")), 404, "M_NOT_FOUND")


def test_m_tz_must_be_a_string(alice):
    assert_error(alice.put(profile_path(alice.user_id, "m.tz"), json={"m.tz": 1}),
                 400, "M_BAD_JSON")


@pytest.mark.parametrize("key", ["nodot", "Org.Example.x", "org.", ".org", "org..x", "1org.x",
                                 "org.example.fiéld", "org example.x"])
def test_invalid_keys(client, alice, key):
    assert_error(alice.put(profile_path(alice.user_id, key), json={key: "x"}),
                 400, "M_INVALID_PARAM")
    assert_error(client.get(profile_path(alice.user_id, key)), 400, "M_INVALID_PARAM")
    assert_error(alice.delete(profile_path(alice.user_id, key)), 400, "M_INVALID_PARAM")


def test_key_longer_than_255_bytes(alice):
    key = "org.example." + "k" * 244
    assert len(key) == 256
    assert_error(alice.put(profile_path(alice.user_id, key), json={key: "x"}),
                 400, "M_KEY_TOO_LARGE")
    ok_key = key[:-1]
    assert alice.put(profile_path(alice.user_id, ok_key), json={ok_key: "x"}).status_code == 200


def test_profile_must_stay_under_64_kib(client, alice):
    first = "org.example.first"
    assert alice.put(profile_path(alice.user_id, first),
                     json={first: "a" * 40_000}).status_code == 200
    second = "org.example.second"
    assert_error(alice.put(profile_path(alice.user_id, second), json={second: "b" * 30_000}),
                 400, "M_PROFILE_TOO_LARGE")
    assert_error(client.get(profile_path(alice.user_id, second)), 404, "M_NOT_FOUND")
    # Replacing a field counts its new size, not old + new.
    assert alice.put(profile_path(alice.user_id, first),
                     json={first: "c" * 60_000}).status_code == 200
    assert_error(alice.put(profile_path(alice.user_id, first), json={first: "d" * 66_000}),
                 400, "M_PROFILE_TOO_LARGE")
    assert client.get(profile_path(alice.user_id, first)).get_json() == {first: "c" * 60_000}


def test_suspended_user_cannot_change_profile(client, alice):
    User.update(suspended=True).where(User.user_id == alice.user_id).execute()
    assert_error(alice.put(profile_path(alice.user_id, "displayname"),
                           json={"displayname": "x"}), 403, "M_USER_SUSPENDED")
    assert_error(alice.delete(profile_path(alice.user_id, "org.example.x")),
                 403, "M_USER_SUSPENDED")
    assert client.get(profile_path(alice.user_id)).get_json() == {"displayname": "alice"}


def test_wrong_method_on_whole_profile(alice):
    assert_error(alice.put(profile_path(alice.user_id), json={"displayname": "x"}),
                 405, "M_UNRECOGNIZED")


def member_content(user, room_id, user_id):
    response = user.get(f"{V3}/rooms/{quote(room_id, safe='')}/state/m.room.member/"
                        f"{quote(user_id, safe='')}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_profile_changes_reach_joined_rooms(alice, register_user):
    bob = register_user("bob")
    rooms = []
    for _ in range(2):
        response = alice.post(f"{V3}/createRoom", json={"preset": "public_chat"})
        assert response.status_code == 200, response.get_json()
        rooms.append(response.get_json()["room_id"])
    assert bob.post(f"{V3}/rooms/{quote(rooms[0], safe='')}/join", json={}).status_code == 200
    assert member_content(bob, rooms[0], alice.user_id)["displayname"] == "alice"

    assert alice.put(profile_path(alice.user_id, "displayname"),
                     json={"displayname": "Alice L."}).status_code == 200
    assert alice.put(profile_path(alice.user_id, "avatar_url"),
                     json={"avatar_url": "mxc://localhost:8008/face"}).status_code == 200
    for room_id in rooms:
        content = member_content(alice, room_id, alice.user_id)
        assert content == {"membership": "join", "displayname": "Alice L.",
                           "avatar_url": "mxc://localhost:8008/face"}
    # Others' memberships are untouched.
    assert member_content(bob, rooms[0], bob.user_id)["displayname"] == "bob"

    assert alice.delete(profile_path(alice.user_id, "avatar_url")).status_code == 200
    assert member_content(alice, rooms[1], alice.user_id) == {"membership": "join",
                                                              "displayname": "Alice L."}


def test_custom_fields_do_not_touch_rooms(alice):
    room_id = alice.post(f"{V3}/createRoom", json={}).get_json()["room_id"]
    state = alice.get(f"{V3}/rooms/{quote(room_id, safe='')}/state").get_json()
    before = [e["event_id"] for e in state if e["type"] == "m.room.member"]
    assert alice.put(profile_path(alice.user_id, "m.tz"),
                     json={"m.tz": "Europe/Paris"}).status_code == 200
    state = alice.get(f"{V3}/rooms/{quote(room_id, safe='')}/state").get_json()
    assert [e["event_id"] for e in state if e["type"] == "m.room.member"] == before
    assert "m.tz" not in member_content(alice, room_id, alice.user_id)
