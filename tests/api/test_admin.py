"""Server administration: GET/PUT /v1/admin/lock|suspend/{userId}, GET /v3/admin/whois."""

from urllib.parse import quote

import pytest

from homeserver.models.users import User
from helpers.accounts import make_admin

ADMIN = "/_matrix/client/v1/admin"
WHOIS = "/_matrix/client/v3/admin/whois"


@pytest.mark.parametrize("flag,path", [("locked", "lock"), ("suspended", "suspend")])
def test_admin_sets_and_reads_flag(admin, alice, flag, path):
    url = f"{ADMIN}/{path}/{quote(alice.user_id)}"
    response = admin.get(url)
    assert response.status_code == 200
    assert response.get_json() == {flag: False}

    response = admin.put(url, json={flag: True})
    assert response.status_code == 200
    assert response.get_json() == {flag: True}
    assert admin.get(url).get_json() == {flag: True}
    # Setting it again is not an error.
    assert admin.put(url, json={flag: True}).get_json() == {flag: True}

    assert admin.put(url, json={flag: False}).get_json() == {flag: False}
    assert admin.get(url).get_json() == {flag: False}


@pytest.mark.parametrize("flag,path", [("locked", "lock"), ("suspended", "suspend")])
def test_non_admin_is_forbidden_before_any_lookup(alice, register_user, flag, path):
    bob = register_user("bob")
    for target in (bob.user_id, "@nobody:localhost:8008", "@x:elsewhere.org"):
        url = f"{ADMIN}/{path}/{quote(target)}"
        for response in (alice.get(url), alice.put(url, json={flag: True}),
                         alice.put(url, data=b"not json")):
            assert response.status_code == 403, target
            assert response.get_json()["errcode"] == "M_FORBIDDEN"
    assert User.get(User.user_id == bob.user_id).locked is False


@pytest.mark.parametrize("flag,path", [("locked", "lock"), ("suspended", "suspend")])
def test_admin_errors(admin, register_user, flag, path):
    def check(method, target, status, errcode, **kw):
        response = admin.request(method, f"{ADMIN}/{path}/{quote(target)}", **kw)
        assert response.status_code == status, (method, target, response.get_json())
        assert response.get_json()["errcode"] == errcode

    for method, kw in (("GET", {}), ("PUT", {"json": {flag: True}})):
        check(method, "@nobody:localhost:8008", 404, "M_NOT_FOUND", **kw)
        check(method, "@someone:elsewhere.org", 400, "M_INVALID_PARAM", **kw)
        check(method, "not-a-user-id", 400, "M_INVALID_PARAM", **kw)
    other_admin = make_admin(register_user("root"))
    check("GET", other_admin.user_id, 403, "M_FORBIDDEN")
    check("PUT", other_admin.user_id, 403, "M_FORBIDDEN", json={flag: True})
    # An admin may see their own status but not change it.
    assert admin.get(f"{ADMIN}/{path}/{quote(admin.user_id)}").get_json() == {flag: False}
    check("PUT", admin.user_id, 403, "M_FORBIDDEN", json={flag: True})
    carol = register_user("carol")
    check("PUT", carol.user_id, 400, "M_BAD_JSON", json={flag: "yes"})
    check("PUT", carol.user_id, 400, "M_BAD_JSON", json={})
    check("PUT", carol.user_id, 400, "M_NOT_JSON", data=b"{")


def test_deactivated_user_is_not_found(admin, alice):
    User.update(deactivated=True).where(User.user_id == alice.user_id).execute()
    response = admin.put(f"{ADMIN}/lock/{quote(alice.user_id)}", json={"locked": True})
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_moderation_capability_only_for_admins(admin, alice):
    caps = admin.get("/_matrix/client/v3/capabilities").get_json()["capabilities"]
    assert caps["m.account_moderation"] == {"suspend": True, "lock": True}
    caps = alice.get("/_matrix/client/v3/capabilities").get_json()["capabilities"]
    assert "m.account_moderation" not in caps


# --- whois --------------------------------------------------------------------------------------

def test_whois_self_lists_devices_with_last_seen(client, alice):
    second = client.post("/_matrix/client/v3/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
        "password": alice.password, "device_id": "SECOND"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert second.status_code == 200
    response = alice.get(f"{WHOIS}/{quote(alice.user_id)}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user_id"] == alice.user_id
    assert set(body["devices"]) == {alice.device_id, "SECOND"}
    connections = body["devices"]["SECOND"]["sessions"][0]["connections"]
    assert connections[0]["ip"] == "10.1.2.3"
    assert isinstance(connections[0]["last_seen"], int)


def test_whois_other_user_needs_admin(admin, alice, register_user):
    bob = register_user("bob")
    response = alice.get(f"{WHOIS}/{quote(bob.user_id)}")
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    response = admin.get(f"{WHOIS}/{quote(bob.user_id)}")
    assert response.status_code == 200
    assert list(response.get_json()["devices"]) == [bob.device_id]
    response = admin.get(f"{WHOIS}/{quote('@nobody:localhost:8008')}")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_whois_shows_the_devices_last_user_agent(client, admin, register_user):
    bob = register_user("bob")
    token = bob.get("/_matrix/client/v3/account/whoami").request.headers["Authorization"]
    client.get("/_matrix/client/v3/account/whoami",
               headers={"Authorization": token, "User-Agent": "Element/1.11 (test)"})
    body = admin.get(f"{WHOIS}/{quote(bob.user_id)}").get_json()
    [connection] = body["devices"][bob.device_id]["sessions"][0]["connections"]
    assert connection["user_agent"] == "Element/1.11 (test)"
    client.get("/_matrix/client/v3/account/whoami",
               headers={"Authorization": token, "User-Agent": "nio/0.25"})
    body = admin.get(f"{WHOIS}/{quote(bob.user_id)}").get_json()
    [connection] = body["devices"][bob.device_id]["sessions"][0]["connections"]
    assert connection["user_agent"] == "nio/0.25"
