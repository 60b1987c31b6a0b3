"""Filters (spec: Filtering): POST /user/{userId}/filter, GET /user/{userId}/filter/{filterId},
validation, and filters given to /sync by ID or inline."""

import json
from urllib.parse import quote

import pytest

V3 = "/_matrix/client/v3"

EXAMPLE = {
    "room": {
        "state": {"types": ["m.room.*"], "not_rooms": ["!726s6s6q:example.com"]},
        "timeline": {"limit": 10, "types": ["m.room.message"],
                     "not_rooms": ["!726s6s6q:example.com"],
                     "not_senders": ["@spam:example.com"]},
        "ephemeral": {"types": ["m.receipt", "m.typing"],
                      "not_rooms": ["!726s6s6q:example.com"],
                      "not_senders": ["@spam:example.com"]},
    },
    "presence": {"types": ["m.presence"], "not_senders": ["@alice:example.com"]},
    "event_format": "client",
    "event_fields": ["type", "content", "sender"],
}


def filter_path(user_id, filter_id=None):
    path = f"{V3}/user/{quote(user_id, safe='')}/filter"
    return path if filter_id is None else f"{path}/{quote(filter_id, safe='')}"


def assert_error(response, status, errcode, mentions=None):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["errcode"] == errcode, body
    if mentions is not None:
        assert mentions in body["error"], body


def test_upload_and_download_round_trip(alice):
    response = alice.post(filter_path(alice.user_id), json=EXAMPLE)
    assert response.status_code == 200, response.get_json()
    filter_id = response.get_json()["filter_id"]
    assert isinstance(filter_id, str) and not filter_id.startswith("{")
    got = alice.get(filter_path(alice.user_id, filter_id))
    assert got.status_code == 200
    assert got.get_json() == EXAMPLE


def test_unknown_keys_are_kept(alice):
    body = {"room": {"timeline": {"limit": 5}}, "org.example.unstable": {"x": 1}}
    filter_id = alice.post(filter_path(alice.user_id), json=body).get_json()["filter_id"]
    assert alice.get(filter_path(alice.user_id, filter_id)).get_json() == body


def test_empty_filter_is_valid(alice):
    response = alice.post(filter_path(alice.user_id), json={})
    assert response.status_code == 200
    assert alice.get(filter_path(alice.user_id, response.get_json()["filter_id"])).get_json() == {}


def test_same_filter_twice_gets_same_id_and_different_filters_differ(alice):
    first = alice.post(filter_path(alice.user_id), json=EXAMPLE).get_json()["filter_id"]
    again = alice.post(filter_path(alice.user_id), json=EXAMPLE).get_json()["filter_id"]
    other = alice.post(filter_path(alice.user_id), json={"room": {"timeline": {"limit": 1}}})
    assert first == again
    assert other.get_json()["filter_id"] != first


def test_cannot_upload_for_another_user(alice, register_user):
    bob = register_user("bob")
    assert_error(alice.post(filter_path(bob.user_id), json={}), 403, "M_FORBIDDEN")


def test_cannot_read_another_users_filter(alice, register_user):
    bob = register_user("bob")
    filter_id = bob.post(filter_path(bob.user_id), json=EXAMPLE).get_json()["filter_id"]
    assert_error(alice.get(filter_path(bob.user_id, filter_id)), 403, "M_FORBIDDEN")
    # Nor by pretending it is hers.
    assert_error(alice.get(filter_path(alice.user_id, filter_id)), 404, "M_NOT_FOUND")


@pytest.mark.parametrize("filter_id", ["999999", "abc", "{", "-1"])
def test_unknown_filter_is_not_found(alice, filter_id):
    assert_error(alice.get(filter_path(alice.user_id, filter_id)), 404, "M_NOT_FOUND")


def test_requires_auth(client, alice):
    assert_error(client.post(filter_path(alice.user_id), json={}), 401, "M_MISSING_TOKEN")
    assert_error(client.get(filter_path(alice.user_id, "1")), 401, "M_MISSING_TOKEN")


@pytest.mark.parametrize("body,field", [
    ({"room": {"timeline": {"limit": "10"}}}, "room.timeline.limit"),
    ({"room": {"timeline": {"limit": -1}}}, "room.timeline.limit"),
    ({"room": {"timeline": {"limit": 1.5}}}, "room.timeline.limit"),
    ({"room": {"state": {"types": "m.room.member"}}}, "room.state.types"),
    ({"room": {"state": {"types": [1]}}}, "room.state.types"),
    ({"room": {"rooms": ["not-a-room"]}}, "room.rooms"),
    ({"room": {"timeline": {"not_rooms": [5]}}}, "room.timeline.not_rooms"),
    ({"room": {"include_leave": "yes"}}, "room.include_leave"),
    ({"room": {"state": {"lazy_load_members": 1}}}, "room.state.lazy_load_members"),
    ({"room": {"timeline": {"contains_url": "true"}}}, "room.timeline.contains_url"),
    ({"room": "everything"}, "room"),
    ({"presence": {"senders": ["alice"]}}, "presence.senders"),
    ({"account_data": {"not_types": [None]}}, "account_data.not_types"),
    ({"event_format": "xml"}, "event_format"),
    ({"event_fields": "content.body"}, "event_fields"),
])
def test_invalid_filter_names_the_field(alice, body, field):
    assert_error(alice.post(filter_path(alice.user_id), json=body), 400, "M_BAD_JSON",
                 mentions=field)


def test_filter_body_must_be_json_object(alice):
    assert_error(alice.post(filter_path(alice.user_id), data=b"[]"), 400, "M_BAD_JSON")
    assert_error(alice.post(filter_path(alice.user_id), data=b"nope"), 400, "M_NOT_JSON")


# --- filters given to /sync ---------------------------------------------------------------------

def test_sync_accepts_filter_id_and_inline_filter(alice):
    filter_id = alice.post(filter_path(alice.user_id), json=EXAMPLE).get_json()["filter_id"]
    by_id = alice.get(f"{V3}/sync?filter={filter_id}")
    assert by_id.status_code == 200, by_id.get_json()
    inline = alice.get(f"{V3}/sync?filter=" + quote(json.dumps(EXAMPLE)))
    assert inline.status_code == 200, inline.get_json()


def test_sync_with_unknown_filter_id_is_invalid_param(alice, register_user):
    assert_error(alice.get(f"{V3}/sync?filter=424242"), 400, "M_INVALID_PARAM")
    bob = register_user("bob")
    bobs = bob.post(filter_path(bob.user_id), json=EXAMPLE).get_json()["filter_id"]
    assert_error(alice.get(f"{V3}/sync?filter={bobs}"), 400, "M_INVALID_PARAM")


def test_sync_with_malformed_inline_filter(alice):
    assert_error(alice.get(f"{V3}/sync?filter=" + quote("{not json")), 400, "M_INVALID_PARAM")
    bad = json.dumps({"room": {"timeline": {"limit": "ten"}}})
    assert_error(alice.get(f"{V3}/sync?filter=" + quote(bad)), 400, "M_BAD_JSON",
                 mentions="room.timeline.limit")
