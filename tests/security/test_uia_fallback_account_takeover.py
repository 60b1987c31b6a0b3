"""Account takeover through the password stage of user-interactive auth.

The attack: the attacker starts a password change (or deactivation) for a victim, without an
access token or with their own, and gets the victim to enter their password on the server's
fallback page for that session (a link, or the page framed in the attacker's site); then the
attacker completes the request and the victim's password is the attacker's.
"""

PASSWORD = "/_matrix/client/v3/account/password"
DEACTIVATE = "/_matrix/client/v3/account/deactivate"
LOGIN = "/_matrix/client/v3/login"
FALLBACK = "/_matrix/client/v3/auth/m.login.password/fallback/web"


def login(client, user, password):
    return client.post(LOGIN, json={"type": "m.login.password", "password": password,
                                    "identifier": {"type": "m.id.user", "user": user}})


def victim_signs_in_on(client, session, victim):
    """What the victim does with the link: open it and type their username and password."""
    page = client.get(f"{FALLBACK}?session={session}")
    if page.status_code == 200:
        client.post(FALLBACK, data={"session": session, "user": "bob",
                                    "password": victim.password})
    return page


def test_tokenless_password_change_through_the_victims_fallback_sign_in(client, register_user):
    bob = register_user("bob")
    # 1. The attacker, with no account, starts a password change.
    first = client.post(PASSWORD, json={"new_password": "attacker's"})
    assert first.status_code == 401
    session = first.get_json().get("session")
    # 2. Had there been a session, the victim would have signed in on its page...
    if session is not None:
        victim_signs_in_on(client, session, bob)
    # 3. ...and the attacker would finish the request.
    client.post(PASSWORD, json={"new_password": "attacker's", "auth": {"session": session}})
    assert login(client, "bob", "attacker's").status_code == 403
    assert login(client, "bob", bob.password).status_code == 200
    assert bob.get("/_matrix/client/v3/account/whoami").status_code == 200
    assert first.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_tokenless_deactivation_cannot_be_started(client, register_user):
    bob = register_user("bob")
    first = client.post(DEACTIVATE, json={})
    assert first.status_code == 401 and first.get_json()["errcode"] == "M_MISSING_TOKEN"
    assert login(client, "bob", bob.password).status_code == 200


def test_session_of_the_attacker_cannot_be_completed_by_the_victim(client, register_user):
    mallory = register_user("mallory", password="mallory own password")
    bob = register_user("bob")
    session = mallory.post(PASSWORD, json={"new_password": "attacker's"}).get_json()["session"]
    page = victim_signs_in_on(client, session, bob)
    # The page says what the password confirms and for whom, and asks for no username.
    text = page.get_data(as_text=True)
    assert f"change the password of {mallory.user_id}" in text
    assert 'name="user"' not in text
    # The victim's password does not complete the attacker's session...
    done = mallory.post(PASSWORD, json={"new_password": "attacker's",
                                        "auth": {"session": session}})
    assert done.status_code == 401
    # ...nor does it in the API, with the victim named.
    named = mallory.post(PASSWORD, json={"new_password": "attacker's", "auth": {
        "type": "m.login.password", "session": session, "password": bob.password,
        "identifier": {"type": "m.id.user", "user": "bob"}}})
    assert named.status_code == 403 and named.get_json()["errcode"] == "M_FORBIDDEN"
    assert login(client, "bob", bob.password).status_code == 200
    assert login(client, "mallory", "attacker's").status_code == 403


def test_fallback_pages_refuse_framing(client, register_user):
    bob = register_user("bob")
    session = bob.post(DEACTIVATE, json={}).get_json()["session"]
    for response in (client.get(f"{FALLBACK}?session={session}"),
                     client.post(FALLBACK, data={"session": session, "password": "x"})):
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    text = client.get(f"{FALLBACK}?session={session}").get_data(as_text=True)
    assert f"deactivate the account {bob.user_id}" in text
