"""Password change, deactivation and the third-party identifier endpoints."""

import pytest

from homeserver.models.users import User
from helpers.accounts import password_auth

PASSWORD = "/_matrix/client/v3/account/password"
DEACTIVATE = "/_matrix/client/v3/account/deactivate"
LOGIN = "/_matrix/client/v3/login"
WHOAMI = "/_matrix/client/v3/account/whoami"


def login(client, user, password="correct horse battery"):
    return client.post(LOGIN, json={"type": "m.login.password", "password": password,
                                    "identifier": {"type": "m.id.user", "user": user}})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_change_password_logs_out_other_devices(client, register_user):
    ann = register_user("ann")
    other = login(client, "ann").get_json()
    first = ann.post(PASSWORD, json={"new_password": "new one"})
    assert first.status_code == 401
    assert first.get_json()["flows"] == [{"stages": ["m.login.password"]}]
    session = first.get_json()["session"]
    wrong = ann.post(PASSWORD, json={"new_password": "new one",
                                     "auth": password_auth("ann", "bad", session)})
    assert wrong.status_code == 401 and wrong.get_json()["errcode"] == "M_FORBIDDEN"
    done = ann.post(PASSWORD, json={"new_password": "new one",
                                    "auth": password_auth("ann", session=session)})
    assert done.status_code == 200 and done.get_json() == {}
    # The requesting device stays; the others are gone.
    assert ann.get(WHOAMI).status_code == 200
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 401
    devices = ann.get("/_matrix/client/v3/devices").get_json()["devices"]
    assert [d["device_id"] for d in devices] == [ann.device_id]
    assert login(client, "ann").status_code == 403
    assert login(client, "ann", "new one").status_code == 200


def test_change_password_keeping_devices(client, register_user):
    bo = register_user("bo")
    other = login(client, "bo").get_json()
    done = bo.post(PASSWORD, json={"new_password": "x2", "logout_devices": False,
                                   "auth": password_auth("bo")})
    assert done.status_code == 200
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 200


def test_change_password_without_access_token(client, register_user):
    cy = register_user("cy")
    refused = client.post(PASSWORD, json={"new_password": "fresh",
                                          "auth": password_auth("cy")})
    assert refused.status_code == 401 and refused.get_json()["errcode"] == "M_MISSING_TOKEN"
    assert cy.get(WHOAMI).status_code == 200
    assert login(client, "cy").status_code == 200


def test_change_password_needs_new_password(client, register_user):
    di = register_user("di")
    response = di.post(PASSWORD, json={"auth": password_auth("di")})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_MISSING_PARAM"
    assert di.post(PASSWORD, json={"new_password": 5}).get_json()["errcode"] == "M_BAD_JSON"


def test_change_password_with_another_users_password_fails_the_stage(client, register_user):
    register_user("dot")
    eda = register_user("eda")
    response = eda.post(PASSWORD, json={"new_password": "x", "auth": password_auth("dot")})
    assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    ghost = eda.post(PASSWORD, json={"new_password": "x", "auth": password_auth("ghost")})
    # Any other user named is refused outright, 403 as Synapse (no oracle on their password).
    assert ghost.status_code == 403 and ghost.get_json()["errcode"] == "M_FORBIDDEN"


def test_deactivate(client, register_user):
    eli = register_user("eli", device_id="D1")
    other = login(client, "eli").get_json()
    first = eli.post(DEACTIVATE, json={})
    assert first.status_code == 401
    done = eli.post(DEACTIVATE, json={"auth": password_auth("eli",
                                                            session=first.get_json()["session"])})
    assert done.status_code == 200
    assert done.get_json() == {"id_server_unbind_result": "success"}
    for token in (eli.access_token, other["access_token"]):
        assert client.get(WHOAMI, headers=bearer(token)).status_code == 401
    refused = login(client, "eli")
    assert refused.status_code == 403
    assert refused.get_json()["errcode"] == "M_USER_DEACTIVATED"
    # The user ID is never handed out again.
    again = client.post("/_matrix/client/v3/register", json={
        "username": "eli", "password": "pw", "auth": {"type": "m.login.dummy"}})
    assert again.get_json()["errcode"] == "M_USER_IN_USE"
    user = User.get(User.user_id == eli.user_id)
    assert user.deactivated and user.displayname is None and user.avatar_url is None


def test_deactivate_without_access_token(client, register_user):
    fin = register_user("fin")
    refused = client.post(DEACTIVATE, json={"auth": password_auth("@fin:localhost:8008"),
                                            "erase": True})
    assert refused.status_code == 401 and refused.get_json()["errcode"] == "M_MISSING_TOKEN"
    assert fin.get(WHOAMI).status_code == 200


def test_deactivate_wrong_password(client, register_user):
    gia = register_user("gia")
    response = gia.post(DEACTIVATE, json={"auth": password_auth("gia", "nope")})
    assert response.status_code == 401 and response.get_json()["errcode"] == "M_FORBIDDEN"
    assert gia.get(WHOAMI).status_code == 200


# --- third-party identifiers ---------------------------------------------------------------------

def test_threepid_list_is_empty(client, register_user):
    hal = register_user("hal")
    assert hal.get("/_matrix/client/v3/account/3pid").get_json() == {"threepids": []}
    assert client.get("/_matrix/client/v3/account/3pid").status_code == 401


EMAIL = {"client_secret": "secret", "email": "a@example.org", "send_attempt": 1}
MSISDN = {"client_secret": "secret", "country": "GB", "phone_number": "07700900000",
          "send_attempt": 1}


@pytest.mark.parametrize("path,body,status,errcode", [
    ("/account/3pid/email/requestToken", EMAIL, 400, "M_THREEPID_MEDIUM_NOT_SUPPORTED"),
    ("/account/3pid/msisdn/requestToken", MSISDN, 400, "M_THREEPID_MEDIUM_NOT_SUPPORTED"),
    ("/account/password/email/requestToken", EMAIL, 403, "M_THREEPID_DENIED"),
    ("/account/password/msisdn/requestToken", MSISDN, 403, "M_THREEPID_DENIED"),
])
def test_request_token_refusals(client, path, body, status, errcode):
    response = client.post("/_matrix/client/v3" + path, json=body)
    assert response.status_code == status
    assert response.get_json()["errcode"] == errcode
    assert client.post("/_matrix/client/v3" + path, json={"client_secret": "s"}
                       ).get_json()["errcode"] == "M_BAD_JSON"


def test_threepid_changes_are_refused(client, register_user):
    ida = register_user("ida")
    add = ida.post("/_matrix/client/v3/account/3pid/add",
                   json={"client_secret": "s", "sid": "1"})
    assert add.status_code == 400 and add.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
    legacy = ida.post("/_matrix/client/v3/account/3pid", json={"three_pid_creds": {
        "client_secret": "s", "id_server": "id.example.org", "id_access_token": "t",
        "sid": "1"}})
    assert legacy.status_code == 403
    assert legacy.get_json()["errcode"] == "M_THREEPID_AUTH_FAILED"
    delete = ida.post("/_matrix/client/v3/account/3pid/delete",
                      json={"medium": "email", "address": "a@example.org"})
    # Not on the account and bound nowhere: nothing to do, and nothing to unbind.
    assert delete.status_code == 200
    assert delete.get_json() == {"id_server_unbind_result": "no-support"}
    bad = ida.post("/_matrix/client/v3/account/3pid/delete",
                   json={"medium": "pigeon", "address": "x"})
    assert bad.get_json()["errcode"] == "M_BAD_JSON"
    assert client.post("/_matrix/client/v3/account/3pid/add",
                       json={"client_secret": "s", "sid": "1"}).status_code == 401
