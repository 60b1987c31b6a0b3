"""Account locking (spec: "Account locking"): every request but logout answers 401
M_USER_LOCKED with soft_logout true; sessions survive the lock and work again once lifted."""

from urllib.parse import quote

V3 = "/_matrix/client/v3"


def lock(admin, user, value=True):
    response = admin.put(f"/_matrix/client/v1/admin/lock/{quote(user.user_id)}",
                         json={"locked": value})
    assert response.status_code == 200, response.get_json()


def assert_locked(response):
    assert response.status_code == 401, response.get_json()
    body = response.get_json()
    assert body["errcode"] == "M_USER_LOCKED"
    assert body["soft_logout"] is True


def test_locked_account_is_refused_everywhere_but_logout(admin, register_user):
    alice = register_user("alice")
    lock(admin, alice)
    assert_locked(alice.get(f"{V3}/sync"))
    assert_locked(alice.get(f"{V3}/account/whoami"))
    assert_locked(alice.get(f"{V3}/capabilities"))
    assert_locked(alice.post(f"{V3}/createRoom", json={}))
    assert_locked(alice.get(f"{V3}/devices"))
    assert_locked(alice.get("/_matrix/client/v1/mutual_rooms?user_id=" + quote(admin.user_id)))
    # Logging in again is refused too.
    response = alice.client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": alice.password})
    assert_locked(response)
    assert alice.post(f"{V3}/logout").status_code == 200
    # The token is gone now: it is an unknown token, not a locked one.
    response = alice.get(f"{V3}/account/whoami")
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_UNKNOWN_TOKEN"


def test_logout_all_works_while_locked(admin, register_user):
    alice = register_user("alice")
    lock(admin, alice)
    assert alice.post(f"{V3}/logout/all").status_code == 200


def test_unlocking_restores_the_same_session(admin, register_user):
    alice = register_user("alice")
    lock(admin, alice)
    assert_locked(alice.get(f"{V3}/account/whoami"))
    assert admin.get(f"/_matrix/client/v1/admin/lock/{quote(alice.user_id)}").get_json() == {
        "locked": True}
    lock(admin, alice, False)
    response = alice.get(f"{V3}/account/whoami")
    assert response.status_code == 200
    assert response.get_json()["user_id"] == alice.user_id
