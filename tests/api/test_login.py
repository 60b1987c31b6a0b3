"""GET/POST /login, login tokens, refresh tokens, logout, whoami, locked accounts."""

import pytest

from homeserver.models.users import User
from helpers.keys import SigningKey, cross_signing_key

LOGIN = "/_matrix/client/v3/login"
WHOAMI = "/_matrix/client/v3/account/whoami"
REFRESH = "/_matrix/client/v3/refresh"
GET_TOKEN = "/_matrix/client/v1/login/get_token"


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def password_login(client, user, password="correct horse battery", **extra):
    return client.post(LOGIN, json={"type": "m.login.password",
                                    "identifier": {"type": "m.id.user", "user": user},
                                    "password": password, **extra})


def whoami(client, token):
    return client.get(WHOAMI, headers=bearer(token))


def test_login_flows(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert response.get_json() == {"flows": [{"type": "m.login.password"},
                                             {"type": "m.login.token", "get_login_token": True}]}


@pytest.mark.parametrize("user", ["alice", "ALICE", "@alice:localhost:8008",
                                  "@Alice:localhost:8008"])
def test_password_login_by_localpart_or_user_id(client, register_user, user):
    register_user("alice")
    response = password_login(client, user)
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert data["user_id"] == "@alice:localhost:8008"
    assert data["access_token"] and data["device_id"]
    assert "refresh_token" not in data and "expires_in_ms" not in data
    assert whoami(client, data["access_token"]).get_json()["device_id"] == data["device_id"]


def test_legacy_user_field(client, register_user):
    register_user("bob")
    response = client.post(LOGIN, json={"type": "m.login.password", "user": "bob",
                                        "password": "correct horse battery"})
    assert response.status_code == 200
    assert response.get_json()["user_id"] == "@bob:localhost:8008"


@pytest.mark.parametrize("user,password", [("carol", "wrong"), ("nobody", "correct horse battery"),
                                           ("@carol:other.server", "correct horse battery")])
def test_bad_credentials_are_forbidden(client, register_user, user, password):
    register_user("carol")
    response = password_login(client, user, password)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"


def test_login_errors(client, register_user):
    register_user("dave")
    missing = client.post(LOGIN, json={"type": "m.login.password",
                                       "identifier": {"type": "m.id.user", "user": "dave"}})
    assert missing.status_code == 400 and missing.get_json()["errcode"] == "M_MISSING_PARAM"
    bad_type = client.post(LOGIN, json={"type": "m.login.magic"})
    assert bad_type.status_code == 400 and bad_type.get_json()["errcode"] == "M_UNKNOWN"
    no_type = client.post(LOGIN, json={"user": "dave"})
    assert no_type.status_code == 400 and no_type.get_json()["errcode"] == "M_BAD_JSON"
    third_party = client.post(LOGIN, json={
        "type": "m.login.password", "password": "x",
        "identifier": {"type": "m.id.thirdparty", "medium": "email", "address": "d@x.org"}})
    assert third_party.status_code == 403
    legacy_3pid = client.post(LOGIN, json={"type": "m.login.password", "password": "x",
                                           "medium": "email", "address": "d@x.org"})
    assert legacy_3pid.status_code == 403
    unknown_identifier = client.post(LOGIN, json={"type": "m.login.password", "password": "x",
                                                  "identifier": {"type": "m.id.nope"}})
    assert unknown_identifier.status_code == 400
    assert client.post(LOGIN, data=b"not json").get_json()["errcode"] == "M_NOT_JSON"


def test_device_display_name_and_reuse(client, register_user):
    erin = register_user("erin")
    first = password_login(client, "erin", device_id="LAPTOP",
                           initial_device_display_name="Laptop").get_json()
    assert first["device_id"] == "LAPTOP"
    again = password_login(client, "erin", device_id="LAPTOP",
                           initial_device_display_name="Renamed?").get_json()
    assert again["device_id"] == "LAPTOP"
    # Reusing a device ID revokes the tokens it had.
    gone = whoami(client, first["access_token"])
    assert gone.status_code == 401 and gone.get_json()["errcode"] == "M_UNKNOWN_TOKEN"
    assert whoami(client, again["access_token"]).status_code == 200
    devices = erin.get("/_matrix/client/v3/devices").get_json()["devices"]
    names = {d["device_id"]: d.get("display_name") for d in devices}
    assert names == {erin.device_id: None, "LAPTOP": "Laptop"}


def test_device_id_cannot_be_a_cross_signing_key(client, register_user):
    rae = register_user("rae")
    master = SigningKey()
    uploaded = rae.post("/_matrix/client/v3/keys/device_signing/upload", json={
        "master_key": cross_signing_key(rae.user_id, "master", master)})
    assert uploaded.status_code == 200, uploaded.get_json()
    clash = password_login(client, "rae", device_id=master.public)
    assert clash.status_code == 403 and clash.get_json()["errcode"] == "M_FORBIDDEN"
    assert password_login(client, "rae", device_id="ORDINARY").status_code == 200
    too_long = password_login(client, "rae", device_id="x" * 300)
    assert too_long.status_code == 400 and too_long.get_json()["errcode"] == "M_INVALID_PARAM"


def test_every_login_makes_a_new_device(client, register_user):
    register_user("fay")
    a = password_login(client, "fay").get_json()
    b = password_login(client, "fay").get_json()
    assert a["device_id"] != b["device_id"]
    assert whoami(client, a["access_token"]).status_code == 200


def test_access_token_in_query_string(client, register_user):
    gus = register_user("gus")
    response = client.get(WHOAMI + "?access_token=" + gus.access_token)
    assert response.get_json()["user_id"] == gus.user_id
    assert client.get(WHOAMI).get_json()["errcode"] == "M_MISSING_TOKEN"
    assert client.get(WHOAMI, headers=bearer("nope")).get_json()["errcode"] == "M_UNKNOWN_TOKEN"


# --- refresh tokens ------------------------------------------------------------------------------

@pytest.fixture
def short_lived(make_app):
    return make_app(access_token_lifetime_ms=60_000).test_client()


def test_refresh_rotation_and_expiry(short_lived, clock):
    client = short_lived
    client.post("/_matrix/client/v3/register", json={"username": "hal", "password": "pw",
                                                     "auth": {"type": "m.login.dummy"}})
    login = password_login(client, "hal", "pw", refresh_token=True).get_json()
    assert login["expires_in_ms"] == 60_000 and login["refresh_token"]
    assert whoami(client, login["access_token"]).status_code == 200

    clock.advance(60_001)
    expired = whoami(client, login["access_token"])
    assert expired.status_code == 401
    assert expired.get_json()["errcode"] == "M_UNKNOWN_TOKEN"
    assert expired.get_json()["soft_logout"] is True

    refreshed = client.post(REFRESH, json={"refresh_token": login["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.get_json()
    assert new["expires_in_ms"] == 60_000
    assert new["refresh_token"] != login["refresh_token"]
    # Until the new access token is used, the old refresh token still works (lost response).
    retried = client.post(REFRESH, json={"refresh_token": login["refresh_token"]}).get_json()
    assert whoami(client, new["access_token"]).status_code == 401  # superseded by the retry
    assert whoami(client, retried["access_token"]).get_json()["device_id"] == login["device_id"]
    # The new access token was used: the old refresh token is spent.
    spent = client.post(REFRESH, json={"refresh_token": login["refresh_token"]})
    assert spent.status_code == 401
    assert spent.get_json()["errcode"] == "M_UNKNOWN_TOKEN"
    assert spent.get_json()["soft_logout"] is False
    # The current refresh token keeps working.
    assert client.post(REFRESH, json={"refresh_token": retried["refresh_token"]}
                       ).status_code == 200


def test_using_the_new_refresh_token_spends_the_old_one(short_lived):
    client = short_lived
    reg = client.post("/_matrix/client/v3/register", json={
        "username": "ida", "password": "pw", "refresh_token": True,
        "auth": {"type": "m.login.dummy"}}).get_json()
    second = client.post(REFRESH, json={"refresh_token": reg["refresh_token"]}).get_json()
    third = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert third.status_code == 200
    assert client.post(REFRESH, json={"refresh_token": reg["refresh_token"]}).status_code == 401


def test_refresh_errors(client):
    unknown = client.post(REFRESH, json={"refresh_token": "nope"})
    assert unknown.status_code == 401 and unknown.get_json()["errcode"] == "M_UNKNOWN_TOKEN"
    assert client.post(REFRESH, json={}).get_json()["errcode"] == "M_BAD_JSON"


def test_logout_revokes_refresh_token(client):
    reg = client.post("/_matrix/client/v3/register", json={
        "username": "jo", "password": "pw", "refresh_token": True,
        "auth": {"type": "m.login.dummy"}}).get_json()
    assert client.post("/_matrix/client/v3/logout",
                       headers=bearer(reg["access_token"])).status_code == 200
    assert client.post(REFRESH, json={"refresh_token": reg["refresh_token"]}).status_code == 401


# --- m.login.token -------------------------------------------------------------------------------

def test_get_token_needs_interactive_auth_then_logs_in_once(client, register_user):
    kai = register_user("kai")
    first = kai.post(GET_TOKEN, json={})
    assert first.status_code == 401
    body = first.get_json()
    assert body["flows"] == [{"stages": ["m.login.password"]}]
    wrong = kai.post(GET_TOKEN, json={"auth": {
        "type": "m.login.password", "session": body["session"], "password": "bad",
        "identifier": {"type": "m.id.user", "user": "kai"}}})
    assert wrong.status_code == 401 and wrong.get_json()["errcode"] == "M_FORBIDDEN"
    issued = kai.post(GET_TOKEN, json={"auth": {
        "type": "m.login.password", "session": body["session"], "password": kai.password,
        "identifier": {"type": "m.id.user", "user": kai.user_id}}})
    assert issued.status_code == 200
    token = issued.get_json()
    assert token["expires_in_ms"] == 120_000

    login = client.post(LOGIN, json={"type": "m.login.token", "token": token["login_token"]})
    assert login.status_code == 200
    assert login.get_json()["user_id"] == kai.user_id
    assert login.get_json()["device_id"] != kai.device_id
    again = client.post(LOGIN, json={"type": "m.login.token", "token": token["login_token"]})
    assert again.status_code == 403 and again.get_json()["errcode"] == "M_FORBIDDEN"


def test_get_token_always_prompts(client, register_user):
    lea = register_user("lea")
    auth = {"type": "m.login.password", "password": lea.password,
            "identifier": {"type": "m.id.user", "user": "lea"}}
    assert lea.post(GET_TOKEN, json={"auth": auth}).status_code == 200
    # Without auth there is no token, however recent the last prompt was.
    assert lea.post(GET_TOKEN, json={}).status_code == 401


def test_login_token_expires(client, register_user, clock):
    max_ = register_user("max")
    auth = {"type": "m.login.password", "password": max_.password,
            "identifier": {"type": "m.id.user", "user": "max"}}
    token = max_.post(GET_TOKEN, json={"auth": auth}).get_json()["login_token"]
    clock.advance(120_001)
    response = client.post(LOGIN, json={"type": "m.login.token", "token": token})
    assert response.status_code == 403


def test_bad_login_token(client):
    response = client.post(LOGIN, json={"type": "m.login.token", "token": "made-up"})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    missing = client.post(LOGIN, json={"type": "m.login.token"})
    assert missing.status_code == 400


# --- logout and whoami ---------------------------------------------------------------------------

def test_logout_deletes_the_device(client, register_user):
    ned = register_user("ned")
    other = password_login(client, "ned").get_json()
    assert ned.post("/_matrix/client/v3/logout").get_json() == {}
    assert ned.get(WHOAMI).status_code == 401
    devices = client.get("/_matrix/client/v3/devices",
                         headers=bearer(other["access_token"])).get_json()["devices"]
    assert [d["device_id"] for d in devices] == [other["device_id"]]
    assert ned.post("/_matrix/client/v3/logout").status_code == 401


def test_logout_all(client, register_user):
    oz = register_user("oz")
    other = password_login(client, "oz").get_json()
    assert oz.post("/_matrix/client/v3/logout/all").get_json() == {}
    assert oz.get(WHOAMI).status_code == 401
    assert whoami(client, other["access_token"]).status_code == 401
    # The account itself still works.
    assert password_login(client, "oz").status_code == 200


def test_locked_account(client, register_user):
    pam = register_user("pam")
    User.update(locked=True).where(User.user_id == pam.user_id).execute()
    locked = pam.get(WHOAMI)
    assert locked.status_code == 401
    assert locked.get_json() == {"errcode": "M_USER_LOCKED", "error": locked.get_json()["error"],
                                 "soft_logout": True}
    login = password_login(client, "pam")
    assert login.status_code == 401 and login.get_json()["errcode"] == "M_USER_LOCKED"
    # Logging out stays possible.
    assert pam.post("/_matrix/client/v3/logout").status_code == 200
