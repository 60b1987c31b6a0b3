"""A stranger failing logins for someone else's account must not lock its owner out."""

LOGIN = "/_matrix/client/v3/login"
GENEROUS = {"per_second": 100, "burst": 1000}
STRANGER = "203.0.113.66"
OWNER = "198.51.100.5"


def login(client, password, ip):
    return client.post(LOGIN, environ_base={"REMOTE_ADDR": ip}, json={
        "type": "m.login.password", "password": password,
        "identifier": {"type": "m.id.user", "user": "olive"}})


def test_failures_from_a_stranger_do_not_lock_the_owner_out(make_app):
    tight = {"per_second": 0.001, "burst": 3}
    client = make_app(rate_limits={
        "enabled": True, "login_per_ip": GENEROUS, "register_per_ip": GENEROUS,
        "login_per_user": tight, "login_failures_per_user": tight}).test_client()
    registered = client.post("/_matrix/client/v3/register", json={
        "username": "olive", "password": "right", "auth": {"type": "m.login.dummy"}})
    assert registered.status_code == 200
    answers = [login(client, "wrong", STRANGER).status_code for _ in range(10)]
    assert answers[:3] == [403] * 3
    assert set(answers[3:]) == {429}  # the stranger is limited...
    # ...the owner, elsewhere, is not.
    assert login(client, "right", OWNER).status_code == 200
    assert login(client, "right", OWNER).status_code == 200
