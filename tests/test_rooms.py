"""POST /createRoom and the room reads (/state, /members, /joined_members, /joined_rooms)."""

import pytest

V3 = "/_matrix/client/v3"


def create(user, **body):
    response = user.post(f"{V3}/createRoom", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["room_id"]


def state_of(user, room_id):
    response = user.get(f"{V3}/rooms/{room_id}/state")
    assert response.status_code == 200, response.get_json()
    return {(e["type"], e["state_key"]): e for e in response.get_json()}


def test_create_room_default_version_12(register_user):
    alice = register_user("alice")
    room_id = create(alice)
    state = state_of(alice, room_id)
    create_event = state[("m.room.create", "")]
    assert create_event["content"]["room_version"] == "12"
    assert "creator" not in create_event["content"]
    assert room_id == "!" + create_event["event_id"][1:]
    assert state[("m.room.member", alice.user_id)]["content"]["membership"] == "join"
    levels = state[("m.room.power_levels", "")]["content"]
    assert alice.user_id not in levels["users"]
    assert levels["events"]["m.room.tombstone"] > levels["state_default"]
    assert state[("m.room.join_rules", "")]["content"]["join_rule"] == "invite"
    assert state[("m.room.history_visibility", "")]["content"]["history_visibility"] == "shared"
    assert state[("m.room.guest_access", "")]["content"]["guest_access"] == "can_join"


@pytest.mark.parametrize("version", [str(n) for n in range(1, 13)])
def test_create_room_every_version(register_user, version):
    alice = register_user("alice")
    room_id = create(alice, room_version=version, name="Room", topic="Topic")
    state = state_of(alice, room_id)
    assert state[("m.room.create", "")]["content"]["room_version"] == version
    assert state[("m.room.name", "")]["content"] == {"name": "Room"}
    assert state[("m.room.topic", "")]["content"]["topic"] == "Topic"
    send = alice.put(f"{V3}/rooms/{room_id}/send/m.room.message/t1",
                     json={"msgtype": "m.text", "body": "hi"})
    assert send.status_code == 200, send.get_json()
    event_id = send.get_json()["event_id"]
    if int(version) <= 2:
        assert event_id.startswith("$") and event_id.endswith(":localhost:8008")
    else:
        assert ":" not in event_id
    got = alice.get(f"{V3}/rooms/{room_id}/event/{event_id}")
    assert got.status_code == 200, got.get_json()
    assert got.get_json()["content"]["body"] == "hi"
