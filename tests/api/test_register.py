"""POST /register with user-interactive auth, username availability, registration tokens."""

import pytest

from homeserver.services.accounts import registration_tokens

REGISTER = "/_matrix/client/v3/register"
VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity"
WHOAMI = "/_matrix/client/v3/account/whoami"


def _login(client, user, password="correct horse battery", **extra):
    return client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user},
        "password": password, **extra})


def test_dummy_auth_without_session_registers_at_once(client, register_user):
    # matrix-nio sends the dummy stage in its first request, without a session.
    alice = register_user("alice")
    assert alice.user_id == "@alice:localhost:8008"
    assert alice.access_token and alice.device_id
    whoami = alice.get(WHOAMI).get_json()
    assert whoami == {"user_id": alice.user_id, "device_id": alice.device_id, "is_guest": False}


def test_full_interactive_dance(client):
    first = client.post(REGISTER, json={"username": "bob", "password": "pw"})
    assert first.status_code == 401
    body = first.get_json()
    assert body["flows"] == [{"stages": ["m.login.dummy"]}]
    assert isinstance(body["session"], str) and body["session"]
    assert "params" in body
    assert "errcode" not in body and body["completed"] == []

    done = client.post(REGISTER, json={"username": "bob", "password": "pw",
                                       "auth": {"type": "m.login.dummy",
                                                "session": body["session"]}})
    assert done.status_code == 200, done.get_json()
    data = done.get_json()
    assert data["user_id"] == "@bob:localhost:8008"
    assert client.get(WHOAMI, headers={"Authorization": f"Bearer {data['access_token']}"}
                      ).get_json()["user_id"] == "@bob:localhost:8008"


def test_empty_body_gets_flows(client):
    response = client.post(REGISTER, data=b"")
    assert response.status_code == 401
    assert response.get_json()["flows"] == [{"stages": ["m.login.dummy"]}]


def test_username_is_downcased(client, register_user):
    carol = register_user("CaRoL")
    assert carol.user_id == "@carol:localhost:8008"
    assert _login(client, "carol").status_code == 200


@pytest.mark.parametrize("username", ["has space", "_reserved", "ümlaut", "a:b", "x" * 300, ""])
def test_invalid_username_is_refused_before_auth(client, username):
    response = client.post(REGISTER, json={"username": username, "password": "pw"})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_USERNAME"


def test_taken_username_is_refused_before_auth(client, register_user):
    register_user("dave")
    response = client.post(REGISTER, json={"username": "DAVE", "password": "pw"})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_USER_IN_USE"


def test_registration_disabled(make_app):
    client = make_app(registration={"enabled": False}).test_client()
    response = client.post(REGISTER, json={"username": "eve", "password": "pw",
                                           "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    assert client.get(VALIDITY + "?token=abc").get_json()["errcode"] == "M_FORBIDDEN"


def test_unknown_kind(client):
    response = client.post(REGISTER + "?kind=robot", json={})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_INVALID_PARAM"


def test_bad_field_types(client):
    response = client.post(REGISTER, json={"username": 12, "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_BAD_JSON"
    response = client.post(REGISTER, json={"username": "x", "auth": "nope"})
    assert response.get_json()["errcode"] == "M_BAD_JSON"


def test_inhibit_login(client):
    response = client.post(REGISTER, json={"username": "frank", "password": "pw",
                                           "inhibit_login": True,
                                           "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 200
    data = response.get_json()
    assert data["user_id"] == "@frank:localhost:8008"
    assert "access_token" not in data and "device_id" not in data
    assert _login(client, "frank", "pw").status_code == 200


def test_device_id_and_display_name(client, register_user):
    grace = register_user("grace", device_id="MYPHONE", initial_device_display_name="Phone")
    assert grace.device_id == "MYPHONE"
    devices = grace.get("/_matrix/client/v3/devices").get_json()["devices"]
    assert [(d["device_id"], d.get("display_name")) for d in devices] == [("MYPHONE", "Phone")]


def test_refresh_token_on_request(client):
    response = client.post(REGISTER, json={"username": "heidi", "password": "pw",
                                           "refresh_token": True,
                                           "auth": {"type": "m.login.dummy"}})
    data = response.get_json()
    assert data["refresh_token"] and data["expires_in_ms"] == 5 * 60 * 1000
    plain = client.post(REGISTER, json={"username": "ivan", "password": "pw",
                                        "auth": {"type": "m.login.dummy"}}).get_json()
    assert "refresh_token" not in plain and "expires_in_ms" not in plain


def test_generated_username(client):
    response = client.post(REGISTER, json={"password": "secret",
                                           "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 200
    user_id = response.get_json()["user_id"]
    assert user_id.startswith("@") and user_id.endswith(":localhost:8008")
    assert _login(client, user_id, "secret").status_code == 200


def test_password_is_required(client):
    response = client.post(REGISTER, json={"username": "judy",
                                           "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 400
    assert response.get_json()["errcode"] == "M_MISSING_PARAM"
    assert client.get("/_matrix/client/v3/register/available?username=judy").status_code == 200


def test_empty_password_is_weak(client):
    response = client.post(REGISTER, json={"username": "judy", "password": ""})
    assert response.get_json()["errcode"] == "M_WEAK_PASSWORD"


def test_session_is_bound_to_its_request(client):
    session = client.post(REGISTER, json={"username": "kim", "password": "pw"}
                          ).get_json()["session"]
    changed = client.post(REGISTER, json={"username": "mallory", "password": "pw",
                                          "auth": {"type": "m.login.dummy",
                                                   "session": session}})
    assert changed.status_code == 403
    assert changed.get_json()["errcode"] == "M_FORBIDDEN"
    # The same request with another password is the same operation.
    same = client.post(REGISTER, json={"username": "kim", "password": "other",
                                       "auth": {"type": "m.login.dummy", "session": session}})
    assert same.status_code == 200
    assert _login(client, "kim", "other").status_code == 200


def test_session_cannot_be_reused_after_success(client):
    session = client.post(REGISTER, json={"username": "leo", "password": "pw"}
                          ).get_json()["session"]
    auth = {"type": "m.login.dummy", "session": session}
    assert client.post(REGISTER, json={"username": "leo", "password": "pw", "auth": auth}
                       ).status_code == 200
    # A spent session answers only for the request it authorised.
    again = client.post(REGISTER, json={"username": "leo2", "password": "pw", "auth": auth})
    assert again.status_code == 403 and again.get_json()["errcode"] == "M_FORBIDDEN"
    assert _login(client, "leo2", "pw").status_code == 403


def test_resubmitting_takes_omitted_fields_from_the_bound_body(client):
    session = client.post(REGISTER, json={"username": "mia", "password": "s3cret"}
                          ).get_json()["session"]
    # The stage is completed out of band, on the fallback page.
    page = client.post("/_matrix/client/v3/auth/m.login.dummy/fallback/web",
                       data={"session": session})
    assert page.status_code == 200
    # The password is never stored before the flow completes: the resubmission carries it.
    missing = client.post(REGISTER, json={"auth": {"session": session}})
    assert missing.status_code == 400 and missing.get_json()["errcode"] == "M_MISSING_PARAM"
    done = client.post(REGISTER, json={"password": "s3cret", "auth": {"session": session}})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["user_id"] == "@mia:localhost:8008"
    assert _login(client, "mia", "s3cret").status_code == 200


def test_username_available(client, register_user):
    register_user("nina")
    url = "/_matrix/client/v3/register/available"
    assert client.get(url + "?username=olga").get_json() == {"available": True}
    taken = client.get(url + "?username=Nina")
    assert taken.status_code == 400 and taken.get_json()["errcode"] == "M_USER_IN_USE"
    bad = client.get(url + "?username=bad%20name")
    assert bad.get_json()["errcode"] == "M_INVALID_USERNAME"
    assert client.get(url).get_json()["errcode"] == "M_MISSING_PARAM"


@pytest.mark.parametrize("path", ["/register/email/requestToken", "/register/msisdn/requestToken"])
def test_threepid_registration_is_denied(client, path):
    body = {"client_secret": "s", "send_attempt": 1, "email": "a@example.org",
            "country": "GB", "phone_number": "07700900000"}
    response = client.post("/_matrix/client/v3" + path, json=body)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_THREEPID_DENIED"
    assert client.post("/_matrix/client/v3" + path, json={}).get_json()["errcode"] == "M_BAD_JSON"


# --- registration tokens -------------------------------------------------------------------------

@pytest.fixture
def token_app(make_app):
    return make_app(registration={"enabled": True, "require_token": True})


def _register_with_token(client, username, token):
    first = client.post(REGISTER, json={"username": username, "password": "pw"})
    assert first.status_code == 401
    session = first.get_json()["session"]
    return client.post(REGISTER, json={
        "username": username, "password": "pw",
        "auth": {"type": "m.login.registration_token", "token": token, "session": session}})


def test_token_flow_offered_and_dummy_refused(token_app):
    client = token_app.test_client()
    first = client.post(REGISTER, json={"username": "pat", "password": "pw"}).get_json()
    assert first["flows"] == [{"stages": ["m.login.registration_token"]}]
    dummy = client.post(REGISTER, json={"username": "pat", "password": "pw",
                                        "auth": {"type": "m.login.dummy",
                                                 "session": first["session"]}})
    assert dummy.status_code == 401
    assert dummy.get_json()["errcode"] == "M_FORBIDDEN"


def test_wrong_token_then_right_token(token_app):
    client = token_app.test_client()
    registration_tokens.create("GoodToken")
    session = client.post(REGISTER, json={"username": "quinn", "password": "pw"}
                          ).get_json()["session"]
    wrong = client.post(REGISTER, json={"username": "quinn", "password": "pw", "auth": {
        "type": "m.login.registration_token", "token": "nope", "session": session}})
    assert wrong.status_code == 401
    body = wrong.get_json()
    assert body["errcode"] == "M_FORBIDDEN" and body["session"] == session
    assert body["flows"] == [{"stages": ["m.login.registration_token"]}]
    right = client.post(REGISTER, json={"username": "quinn", "password": "pw", "auth": {
        "type": "m.login.registration_token", "token": "GoodToken", "session": session}})
    assert right.status_code == 200
    assert registration_tokens.list_tokens()[0]["completed"] == 1


def test_token_uses_allowed(token_app):
    client = token_app.test_client()
    registration_tokens.create("once", uses_allowed=1)
    assert client.get(VALIDITY + "?token=once").get_json() == {"valid": True}
    assert _register_with_token(client, "rob", "once").status_code == 200
    assert client.get(VALIDITY + "?token=once").get_json() == {"valid": False}
    second = _register_with_token(client, "sam", "once")
    assert second.status_code == 401 and second.get_json()["errcode"] == "M_FORBIDDEN"


def test_pending_reservation_blocks_other_sessions_until_it_expires(token_app, clock):
    client = token_app.test_client()
    registration_tokens.create("one", uses_allowed=1)
    # A registration passes the token stage on the fallback page, then is abandoned.
    session = client.post(REGISTER, json={"username": "uma", "password": "pw"}
                          ).get_json()["session"]
    page = client.post("/_matrix/client/v3/auth/m.login.registration_token/fallback/web",
                       data={"session": session, "token": "one"})
    assert "authDone" in page.get_data(as_text=True)
    assert client.get(VALIDITY + "?token=one").get_json() == {"valid": False}
    refused = _register_with_token(client, "val", "one")
    assert refused.status_code == 401 and refused.get_json()["errcode"] == "M_FORBIDDEN"
    # When the abandoned session expires, its reservation is released.
    clock.advance(31 * 60 * 1000)
    client.post(REGISTER, json={"username": "vic", "password": "pw"})
    assert client.get(VALIDITY + "?token=one").get_json() == {"valid": True}
    assert _register_with_token(client, "vic", "one").status_code == 200


def test_expired_token(token_app, clock):
    client = token_app.test_client()
    registration_tokens.create("soon", expiry_days=1)
    assert client.get(VALIDITY + "?token=soon").get_json() == {"valid": True}
    clock.advance(24 * 60 * 60 * 1000 + 1)
    assert client.get(VALIDITY + "?token=soon").get_json() == {"valid": False}
    assert _register_with_token(client, "walt", "soon").status_code == 401


def test_validity_of_unknown_and_malformed_tokens(token_app):
    client = token_app.test_client()
    assert client.get(VALIDITY + "?token=unknown").get_json() == {"valid": False}
    assert client.get(VALIDITY + "?token=" + "x" * 80).get_json() == {"valid": False}
    assert client.get(VALIDITY).get_json()["errcode"] == "M_MISSING_PARAM"
