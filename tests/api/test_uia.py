"""User-interactive auth: stages, failures, session binding and expiry, the fallback pages."""

from helpers.accounts import password_auth

REGISTER = "/_matrix/client/v3/register"
DELETE_DEVICES = "/_matrix/client/v3/delete_devices"


def fallback(stage):
    return f"/_matrix/client/v3/auth/{stage}/fallback/web"


def start(user, body):
    response = user.post(DELETE_DEVICES, json=body)
    assert response.status_code == 401
    return response.get_json()


def test_wrong_password_answers_the_uia_body_with_forbidden(client, register_user):
    amy = register_user("amy")
    session = start(amy, {"devices": []})["session"]
    wrong = amy.post(DELETE_DEVICES, json={"devices": [], "auth": password_auth(
        "amy", "nope", session)})
    assert wrong.status_code == 401
    body = wrong.get_json()
    assert body["errcode"] == "M_FORBIDDEN" and body["error"]
    assert body["flows"] == [{"stages": ["m.login.password"]}]
    assert body["session"] == session and body["completed"] == []
    # The session survives a wrong attempt.
    right = amy.post(DELETE_DEVICES,
                     json={"devices": [], "auth": password_auth("amy", session=session)})
    assert right.status_code == 200


def test_password_of_another_user_does_not_count(client, register_user):
    ben = register_user("ben")
    register_user("cat")
    # 403 as Synapse, whether or not the other user's password is right (no oracle on it).
    for password in ("correct horse battery", "wrong"):
        response = ben.post(DELETE_DEVICES, json={"devices": [ben.device_id],
                                                  "auth": password_auth("cat", password)})
        assert response.status_code == 403 and response.get_json()["errcode"] == "M_FORBIDDEN"
    assert ben.get("/_matrix/client/v3/devices/" + ben.device_id).status_code == 200


def test_stage_not_offered(client, register_user):
    dan = register_user("dan")
    response = dan.post(DELETE_DEVICES, json={"devices": [],
                                              "auth": {"type": "m.login.dummy"}})
    assert response.status_code == 401 and response.get_json()["errcode"] == "M_FORBIDDEN"
    unknown = dan.post(DELETE_DEVICES, json={"devices": [],
                                             "auth": {"type": "m.login.recaptcha"}})
    assert unknown.status_code == 401 and unknown.get_json()["errcode"] == "M_FORBIDDEN"


def test_auth_without_type_checks_the_session(client, register_user):
    eve = register_user("eve")
    session = start(eve, {"devices": []})["session"]
    pending = eve.post(DELETE_DEVICES, json={"devices": [], "auth": {"session": session}})
    assert pending.status_code == 401 and "errcode" not in pending.get_json()


def test_session_belongs_to_its_request(client, register_user):
    fay = register_user("fay")
    session = start(fay, {"devices": ["A"]})["session"]
    other_body = fay.post(DELETE_DEVICES, json={"devices": ["B"],
                                                "auth": password_auth("fay", session=session)})
    assert other_body.status_code == 403
    other_path = fay.delete(f"/_matrix/client/v3/devices/{fay.device_id}",
                            json={"auth": password_auth("fay", session=session)})
    assert other_path.status_code == 403
    assert other_path.get_json()["errcode"] == "M_FORBIDDEN"


def test_session_belongs_to_its_user(client, register_user):
    gil = register_user("gil")
    hana = register_user("hana")
    session = start(gil, {"devices": []})["session"]
    stolen = hana.post(DELETE_DEVICES, json={"devices": [],
                                             "auth": password_auth("hana", session=session)})
    assert stolen.status_code == 403


def test_expired_session_starts_a_new_one(client, register_user, clock):
    ian = register_user("ian")
    session = start(ian, {"devices": []})["session"]
    clock.advance(31 * 60 * 1000)
    response = ian.post(DELETE_DEVICES, json={"devices": [],
                                              "auth": password_auth("ian", session=session)})
    assert response.status_code == 401
    body = response.get_json()
    assert body["errcode"] == "M_FORBIDDEN" and body["session"] != session


def test_completed_stage_can_be_retried(client):
    session = client.post(REGISTER, json={"username": "jay", "password": "pw"}
                          ).get_json()["session"]
    assert client.post(fallback("m.login.dummy"), data={"session": session}).status_code == 200
    retried = client.post(REGISTER, json={"username": "jay", "password": "pw",
                                          "auth": {"type": "m.login.dummy",
                                                   "session": session}})
    assert retried.status_code == 200


# --- fallback pages ------------------------------------------------------------------------------

def test_dummy_fallback_page(client):
    session = client.post(REGISTER, json={"username": "kim", "password": "pw"}
                          ).get_json()["session"]
    page = client.get(fallback("m.login.dummy") + f"?session={session}")
    assert page.status_code == 200
    assert page.content_type.startswith("text/html")
    text = page.get_data(as_text=True)
    assert "<form" in text and session in text and "authDone" not in text
    done = client.post(fallback("m.login.dummy"), data={"session": session})
    text = done.get_data(as_text=True)
    assert "window.onAuthDone()" in text
    assert 'window.opener.postMessage("authDone", "*")' in text
    # Shown as done from now on.
    assert "authDone" in client.get(fallback("m.login.dummy") + f"?session={session}"
                                    ).get_data(as_text=True)


def test_password_fallback_page(client, register_user):
    lou = register_user("lou")
    other = client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "password": lou.password,
        "identifier": {"type": "m.id.user", "user": "lou"}}).get_json()
    session = start(lou, {"devices": [other["device_id"]]})["session"]
    page = client.get(fallback("m.login.password") + f"?session={session}")
    assert lou.user_id in page.get_data(as_text=True)
    wrong = client.post(fallback("m.login.password"), data={"session": session,
                                                            "password": "bad"})
    assert wrong.status_code == 200
    text = wrong.get_data(as_text=True)
    assert "Invalid" in text and "authDone" not in text
    done = client.post(fallback("m.login.password"), data={"session": session,
                                                           "password": lou.password})
    assert "authDone" in done.get_data(as_text=True)
    # The client resubmits with just the session: the bound request runs.
    finished = lou.post(DELETE_DEVICES, json={"auth": {"session": session}})
    assert finished.status_code == 200
    assert [d["device_id"] for d in lou.get("/_matrix/client/v3/devices").get_json()["devices"]
            ] == [lou.device_id]


def test_password_fallback_names_the_action_and_refuses_framing(client, register_user):
    mo = register_user("mo")
    session = mo.post("/_matrix/client/v3/account/password",
                      json={"new_password": "new pw"}).get_json()["session"]
    page = client.get(fallback("m.login.password") + f"?session={session}")
    text = page.get_data(as_text=True)
    assert f"change the password of {mo.user_id}" in text
    assert 'name="user"' not in text  # only the session's own user can confirm
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    done = client.post(fallback("m.login.password"), data={"session": session,
                                                           "password": mo.password})
    assert "authDone" in done.get_data(as_text=True)
    assert done.headers["X-Frame-Options"] == "DENY"
    # The request again with the session: the new password must come with it (never stored).
    changed = mo.post("/_matrix/client/v3/account/password",
                      json={"new_password": "new pw", "auth": {"session": session}})
    assert changed.status_code == 200
    login = client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "password": "new pw",
        "identifier": {"type": "m.id.user", "user": "mo"}})
    assert login.status_code == 200


def test_fallback_errors(client, register_user):
    session = client.post(REGISTER, json={"username": "ned", "password": "pw"}
                          ).get_json()["session"]
    missing = client.get(fallback("m.login.dummy"))
    assert missing.status_code == 400 and missing.get_json()["errcode"] == "M_MISSING_PARAM"
    unknown = client.get(fallback("m.login.dummy") + "?session=nope")
    assert unknown.status_code == 404 and unknown.get_json()["errcode"] == "M_NOT_FOUND"
    unsupported = client.get(fallback("m.login.recaptcha") + f"?session={session}")
    assert unsupported.status_code == 404
    assert unsupported.get_json()["errcode"] == "M_UNRECOGNIZED"
    not_offered = client.get(fallback("m.login.password") + f"?session={session}")
    assert not_offered.status_code == 400
    assert not_offered.get_json()["errcode"] == "M_INVALID_PARAM"
    no_form = client.post(fallback("m.login.dummy"))
    assert no_form.get_json()["errcode"] == "M_MISSING_PARAM"


# --- retries and later legs (issue 11) -----------------------------------------------------------

def test_retried_registration_returns_the_registration(client):
    body = {"username": "ola", "password": "pw", "initial_device_display_name": "phone"}
    session = client.post(REGISTER, json=body).get_json()["session"]
    auth = {"type": "m.login.dummy", "session": session}
    first = client.post(REGISTER, json={**body, "auth": auth})
    assert first.status_code == 200
    retried = client.post(REGISTER, json={**body, "auth": auth})
    assert retried.status_code == 200, retried.get_json()
    assert retried.get_json()["user_id"] == first.get_json()["user_id"] == "@ola:localhost:8008"
    token = retried.get_json()["access_token"]
    whoami = client.get("/_matrix/client/v3/account/whoami",
                        headers={"Authorization": f"Bearer {token}"})
    assert whoami.get_json()["user_id"] == "@ola:localhost:8008"
    # A retry is not a way into the account without its password.
    wrong = client.post(REGISTER, json={**body, "password": "other", "auth": auth})
    assert wrong.status_code == 403


def test_retried_password_change_answers_without_changing_again(client, register_user):
    pia = register_user("pia")
    session = pia.post("/_matrix/client/v3/account/password",
                       json={"new_password": "second"}).get_json()["session"]
    auth = password_auth("pia", session=session)
    done = pia.post("/_matrix/client/v3/account/password",
                    json={"new_password": "second", "auth": auth})
    assert done.status_code == 200
    retried = pia.post("/_matrix/client/v3/account/password",
                       json={"new_password": "second", "auth": auth})
    assert retried.status_code == 200 and retried.get_json() == {}
    login = client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "password": "second",
        "identifier": {"type": "m.id.user", "user": "pia"}})
    assert login.status_code == 200


def test_later_leg_may_omit_fields_of_the_first(client):
    # matrix-js-sdk: registerRequest({..., initial_device_display_name}), then register().
    first = client.post(REGISTER, json={"username": "quy", "password": "pw",
                                        "initial_device_display_name": "Element"})
    session = first.get_json()["session"]
    done = client.post(REGISTER, json={"username": "quy", "password": "pw",
                                       "auth": {"type": "m.login.dummy", "session": session}})
    assert done.status_code == 200, done.get_json()
    headers = {"Authorization": f"Bearer {done.get_json()['access_token']}"}
    device = client.get(f"/_matrix/client/v3/devices/{done.get_json()['device_id']}",
                        headers=headers).get_json()
    assert device["display_name"] == "Element"


def test_later_leg_may_not_change_a_field(client, register_user):
    session = client.post(REGISTER, json={"username": "rae", "password": "pw",
                                          "initial_device_display_name": "one"}
                          ).get_json()["session"]
    changed = client.post(REGISTER, json={"username": "rae", "password": "pw",
                                          "initial_device_display_name": "two",
                                          "auth": {"type": "m.login.dummy", "session": session}})
    assert changed.status_code == 403 and changed.get_json()["errcode"] == "M_FORBIDDEN"
    # Nor add one once a stage is complete: the authorisation was for the request as it was.
    sid = register_user("sid")
    start_body = sid.post(DELETE_DEVICES, json={"devices": []}).get_json()
    client.post(fallback("m.login.password"), data={"session": start_body["session"],
                                                    "password": sid.password})
    added = sid.post(DELETE_DEVICES, json={"devices": [], "extra": 1,
                                           "auth": {"session": start_body["session"]}})
    assert added.status_code == 403
