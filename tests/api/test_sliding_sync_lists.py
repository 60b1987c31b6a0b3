"""Sliding sync (MSC4186) list filters, several lists and configs, and the request bounds."""

from urllib.parse import quote

from helpers.sliding_sync import all_rooms, sss, sss_request
from helpers.rooms import create_room, invite, join, put_state_ok

V3 = "/_matrix/client/v3"


def _matching(user, filters):
    body = sss(user, all_rooms(ranges=[(0, 99)], filters=filters))
    return set(body["rooms"]), body["lists"]["all"]["count"]


def test_is_dm_and_is_invite(alice, bob):
    dm = create_room(alice, is_direct=True, invite=[bob.user_id])
    group = create_room(alice, preset="public_chat")
    join(bob, group)
    ok = bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.direct",
                 json={alice.user_id: [dm]})
    assert ok.status_code == 200
    assert _matching(bob, {"is_dm": True}) == ({dm}, 1)
    assert _matching(bob, {"is_dm": False}) == ({group}, 1)
    assert _matching(bob, {"is_invite": True}) == ({dm}, 1)
    assert _matching(bob, {"is_invite": False}) == ({group}, 1)
    entry = sss(bob, all_rooms())["rooms"][dm]
    assert entry["is_dm"] is True


def test_room_types_encryption_and_tags(alice):
    space = create_room(alice, creation_content={"type": "m.space"})
    plain = create_room(alice)
    encrypted = create_room(alice, initial_state=[{
        "type": "m.room.encryption", "state_key": "",
        "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    assert _matching(alice, {"room_types": ["m.space"]})[0] == {space}
    assert _matching(alice, {"not_room_types": ["m.space"]})[0] == {plain, encrypted}
    assert _matching(alice, {"room_types": [None]})[0] == {plain, encrypted}
    assert _matching(alice, {"is_encrypted": True})[0] == {encrypted}
    assert _matching(alice, {"is_encrypted": False})[0] == {space, plain}
    ok = alice.put(f"{V3}/user/{quote(alice.user_id)}/rooms/{quote(plain)}/tags/m.favourite",
                   json={})
    assert ok.status_code == 200
    assert _matching(alice, {"tags": ["m.favourite"]})[0] == {plain}
    assert _matching(alice, {"not_tags": ["m.favourite"]})[0] == {space, encrypted}


def test_spaces_filter_lists_direct_children(alice):
    space = create_room(alice, creation_content={"type": "m.space"})
    child = create_room(alice)
    create_room(alice)
    put_state_ok(alice, space, "m.space.child", {"via": ["localhost"]}, state_key=child)
    assert _matching(alice, {"spaces": [space]}) == ({child}, 1)


def test_several_lists_merge_room_configs(alice):
    room = create_room(alice, topic="t")
    body = sss(alice, {"lists": {
        "a": {"ranges": [[0, 9]], "timeline_limit": 0, "required_state": [["m.room.topic", ""]]},
        "b": {"ranges": [[0, 9]], "timeline_limit": 2,
              "required_state": [["m.room.create", ""]]}}})
    entry = body["rooms"][room]
    assert len(entry["timeline"]) == 2
    assert {e["type"] for e in entry["required_state"]} == {"m.room.topic", "m.room.create"}
    assert body["lists"] == {"a": {"count": 1}, "b": {"count": 1}}


def test_changed_required_state_is_sent_again(alice):
    room = create_room(alice, topic="t")
    first = sss(alice, all_rooms(required_state=[("m.room.create", "")]))
    second = sss(alice, all_rooms(required_state=[("m.room.topic", "")]), pos=first["pos"])
    assert [e["type"] for e in second["rooms"][room]["required_state"]] == ["m.room.topic"]


def test_latest_msc_request_shapes_are_accepted(alice):
    room = create_room(alice, topic="t")
    body = sss(alice, {"lists": {"all": {
        "range": [0, 9], "timeline_limit": 0,
        "required_state": {"include": [{}], "exclude": [{"type": "m.room.create"}]}}}})
    types = {e["type"] for e in body["rooms"][room]["required_state"]}
    assert "m.room.topic" in types and "m.room.create" not in types


def test_bad_shapes_answer_standard_errors(alice):
    for body in ({"lists": {"x": {"ranges": [[5, 1]], "timeline_limit": 1}}},
                 {"lists": {"x": {"ranges": [[0]], "timeline_limit": 1}}},
                 {"lists": {"x": {"ranges": [[0, 1]], "required_state": [["only-type"]]}}},
                 {"lists": "nope"}):
        response = sss_request(alice, body)
        assert response.status_code == 400, body
        assert response.get_json()["errcode"] in ("M_BAD_JSON", "M_INVALID_PARAM")


def test_invite_from_an_ignored_user_is_hidden(alice, bob):
    bob.put(f"{V3}/user/{quote(bob.user_id)}/account_data/m.ignored_user_list",
            json={"ignored_users": {alice.user_id: {}}})
    room = create_room(alice)
    invite(alice, room, bob)
    assert sss(bob, all_rooms())["lists"]["all"]["count"] == 0
