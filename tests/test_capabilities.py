"""GET /_matrix/client/v3/capabilities (spec: Capabilities negotiation)."""

from homeserver.models.users import User
from homeserver.services.rooms.room_versions import DEFAULT_ROOM_VERSION, KNOWN_ROOM_VERSIONS

PATH = "/_matrix/client/v3/capabilities"


def test_needs_a_token(client):
    response = client.get(PATH)
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_capabilities(register_user):
    alice = register_user("alice")
    response = alice.get(PATH)
    assert response.status_code == 200
    capabilities = response.get_json()["capabilities"]
    assert capabilities["m.change_password"] == {"enabled": True}
    assert capabilities["m.set_displayname"] == {"enabled": True}
    assert capabilities["m.set_avatar_url"] == {"enabled": True}
    assert capabilities["m.profile_fields"] == {"enabled": True}
    assert capabilities["m.3pid_changes"] == {"enabled": False}
    assert capabilities["m.get_login_token"] == {"enabled": True}
    versions = capabilities["m.room_versions"]
    assert versions["default"] == DEFAULT_ROOM_VERSION
    assert versions["available"][versions["default"]] == "stable"
    assert set(versions["available"]) == set(KNOWN_ROOM_VERSIONS)
    assert set(versions["available"].values()) <= {"stable", "unstable"}


def test_suspended_user_is_told_profile_changes_are_off(register_user):
    alice = register_user("alice")
    User.update(suspended=True).where(User.user_id == alice.user_id).execute()
    capabilities = alice.get(PATH).get_json()["capabilities"]
    assert capabilities["m.profile_fields"] == {"enabled": False}
    assert capabilities["m.set_displayname"] == {"enabled": False}
    assert capabilities["m.set_avatar_url"] == {"enabled": False}
