"""Room Tagging: GET/PUT/DELETE /user/{userId}/rooms/{roomId}/tags[/{tag}], kept as m.tag."""

V3 = "/_matrix/client/v3"
ROOM = "!taggedroom:localhost:8008"


def _tags_path(user, room=ROOM):
    return f"{V3}/user/{user.user_id}/rooms/{room}/tags"


def test_tags_round_trip(register_user):
    alice = register_user("alice")
    assert alice.get(_tags_path(alice)).get_json() == {"tags": {}}
    assert alice.put(f"{_tags_path(alice)}/m.favourite", json={"order": 0.25}).status_code == 200
    assert alice.put(f"{_tags_path(alice)}/u.Work", json={}).status_code == 200
    assert alice.get(_tags_path(alice)).get_json() == {
        "tags": {"m.favourite": {"order": 0.25}, "u.Work": {}}}
    # Re-tagging replaces the tag's data.
    alice.put(f"{_tags_path(alice)}/m.favourite", json={"order": 1})
    assert alice.get(_tags_path(alice)).get_json()["tags"]["m.favourite"] == {"order": 1}
    assert alice.delete(f"{_tags_path(alice)}/u.Work").status_code == 200
    assert alice.get(_tags_path(alice)).get_json() == {"tags": {"m.favourite": {"order": 1}}}
    # Deleting a tag that is not there is fine.
    assert alice.delete(f"{_tags_path(alice)}/u.Nope").status_code == 200


def test_tags_are_the_m_tag_room_account_data(register_user):
    alice = register_user("alice")
    alice.put(f"{_tags_path(alice)}/m.lowpriority", json={"order": 0.5})
    content = alice.get(f"{V3}/user/{alice.user_id}/rooms/{ROOM}/account_data/m.tag").get_json()
    assert content == {"tags": {"m.lowpriority": {"order": 0.5}}}


def test_tags_are_per_room_and_per_user(register_user):
    alice, bob = register_user("alice"), register_user("bob")
    alice.put(f"{_tags_path(alice)}/u.a", json={})
    assert alice.get(_tags_path(alice, "!other:localhost:8008")).get_json() == {"tags": {}}
    assert bob.get(_tags_path(bob)).get_json() == {"tags": {}}
    for response in (bob.get(_tags_path(alice)), bob.put(f"{_tags_path(alice)}/u.b", json={}),
                     bob.delete(f"{_tags_path(alice)}/u.a")):
        assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    assert alice.get(_tags_path(alice)).get_json() == {"tags": {"u.a": {}}}


def test_bad_tag_bodies(register_user):
    alice = register_user("alice")
    for body in ({"order": "0.5"}, {"order": True}):
        response = alice.put(f"{_tags_path(alice)}/u.x", json=body)
        assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    long_tag = "u." + "x" * 260
    response = alice.put(f"{_tags_path(alice)}/{long_tag}", json={})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_INVALID_PARAM"
    assert alice.get(_tags_path(alice)).get_json() == {"tags": {}}
