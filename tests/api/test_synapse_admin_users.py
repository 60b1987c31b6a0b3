"""Synapse's admin API for accounts (/_synapse/admin/v2/users ...): server admins only, the
shapes and paging of Synapse's user_admin_api.md."""

from helpers.api import ok
from helpers.rooms import create_room
from helpers.synapse_admin import (  # noqa: F401 (root: a fixture)
    DEVICE, SYNAPSE, USER_DETAILS, USER_LIST_ENTRY, forbidden, q, root)

V3 = "/_matrix/client/v3"


def test_non_admins_get_403_for_every_path(client, register_user):
    alice = register_user("alice")
    uid = q(alice.user_id)
    for method, path in (("GET", "/v2/users"), ("GET", f"/v2/users/{uid}"),
                         ("PUT", f"/v2/users/{uid}"), ("POST", f"/v1/deactivate/{uid}"),
                         ("POST", f"/v1/reset_password/{uid}"),
                         ("GET", f"/v1/users/{uid}/joined_rooms"),
                         ("GET", f"/v2/users/{uid}/devices"),
                         ("DELETE", f"/v2/users/{uid}/devices/X"),
                         ("POST", f"/v2/users/{uid}/delete_devices"),
                         ("GET", f"/v1/whois/{uid}")):
        forbidden(alice.request(method, SYNAPSE + path, json={"password": "x" * 10}))
        assert client.open(SYNAPSE + path, method=method).status_code == 401
    # Nothing changed: alice is neither deactivated nor an admin.
    assert alice.get(f"{V3}/account/whoami").status_code == 200


def test_list_users_pages_with_next_token_and_total(register_user, root):
    for n in range(5):
        register_user(f"user{n}")
    page = ok(root.get(f"{SYNAPSE}/v2/users?from=0&limit=2"))
    assert page["total"] == 6 and page["next_token"] == "2"
    assert [u["name"] for u in page["users"]] == ["@root:localhost:8008",
                                                  "@user0:localhost:8008"]
    assert set(page["users"][0]) == USER_LIST_ENTRY
    names = []
    token = "0"
    while token is not None:
        page = ok(root.get(f"{SYNAPSE}/v2/users?from={token}&limit=2"))
        names += [u["name"] for u in page["users"]]
        token = page.get("next_token")
    assert names == sorted(names) and len(names) == 6
    backwards = ok(root.get(f"{SYNAPSE}/v2/users?dir=b&limit=100"))
    assert [u["name"] for u in backwards["users"]] == names[::-1]
    assert "next_token" not in backwards


def test_list_users_filters(app, register_user, root):
    alice = register_user("alice")
    ok(alice.put(f"{V3}/profile/{q(alice.user_id)}/displayname", json={"displayname": "Wonder"}))
    bob = register_user("bob")
    found = ok(root.get(f"{SYNAPSE}/v2/users?name=wond"))
    assert [u["name"] for u in found["users"]] == [alice.user_id] and found["total"] == 1
    assert ok(root.get(f"{SYNAPSE}/v2/users?user_id=bo"))["users"][0]["name"] == bob.user_id
    admins = ok(root.get(f"{SYNAPSE}/v2/users?admins=true"))
    assert [u["name"] for u in admins["users"]] == [root.user_id]
    assert admins["users"][0]["admin"] is True
    ok(root.post(f"{SYNAPSE}/v1/deactivate/{q(bob.user_id)}", json={}))
    listed = {u["name"] for u in ok(root.get(f"{SYNAPSE}/v2/users"))["users"]}
    assert bob.user_id not in listed
    everyone = ok(root.get(f"{SYNAPSE}/v2/users?deactivated=true"))["users"]
    assert {u["name"]: u["deactivated"] for u in everyone}[bob.user_id] is True
    # The localpart is searched (Synapse's "@%name%:%"), not what follows the last colon.
    assert ok(root.get(f"{SYNAPSE}/v2/users?name=8008"))["total"] == 0
    # A pattern character is a plain character, not a wildcard.
    assert ok(root.get(f"{SYNAPSE}/v2/users?name=%25"))["total"] == 0
    for bad in ("from=-1", "limit=x", "order_by=password", "dir=up", "guests=yes"):
        response = root.get(f"{SYNAPSE}/v2/users?{bad}")
        assert response.status_code == 400, bad
    by_creation = ok(root.get(f"{SYNAPSE}/v2/users?order_by=creation_ts&dir=b"))["users"]
    assert [u["creation_ts"] for u in by_creation] == sorted(
        (u["creation_ts"] for u in by_creation), reverse=True)
    assert ok(root.get(f"{SYNAPSE}/v2/users?order_by=last_seen_ts"))["total"] == 2


def test_query_user(register_user, root):
    alice = register_user("alice")
    user = ok(root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}"))
    assert set(user) == USER_DETAILS
    assert user["name"] == alice.user_id and user["displayname"] == "alice"
    assert user["admin"] is False and user["deactivated"] is False
    assert user["threepids"] == [] and user["last_seen_ts"] is not None
    response = root.get(f"{SYNAPSE}/v2/users/{q('@nobody:localhost:8008')}")
    assert (response.status_code, response.get_json()["errcode"]) == (404, "M_NOT_FOUND")
    response = root.get(f"{SYNAPSE}/v2/users/{q('@x:elsewhere.org')}")
    assert (response.status_code, response.get_json()["errcode"]) == (400, "M_INVALID_PARAM")


def test_create_then_modify_user(client, register_user, root):
    uid = "@carol:localhost:8008"
    response = root.put(f"{SYNAPSE}/v2/users/{q(uid)}",
                        json={"password": "s3cret pass", "displayname": "Carol", "admin": False})
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == USER_DETAILS
    assert created["name"] == uid and created["displayname"] == "Carol"
    login = client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"},
        "password": "s3cret pass"})
    token = ok(login)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    room = create_room(register_user("dave"), preset="public_chat")
    assert client.post(f"{V3}/join/{q(room)}", headers=headers).status_code == 200

    # Modify: 200; a new display name reaches her room; a new password logs her out.
    response = root.put(f"{SYNAPSE}/v2/users/{q(uid)}",
                        json={"displayname": "Caroline", "password": "another pass",
                              "admin": True})
    assert response.status_code == 200
    assert response.get_json()["displayname"] == "Caroline"
    assert response.get_json()["admin"] is True
    assert client.get(f"{V3}/account/whoami", headers=headers).status_code == 401
    member = ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/state"))["state"]
    assert any(e["type"] == "m.room.member" and e["state_key"] == uid
               and e["content"].get("displayname") == "Caroline" for e in member)

    # Lock and unlock.
    locked = root.put(f"{SYNAPSE}/v2/users/{q(uid)}", json={"locked": True}).get_json()
    assert locked["locked"] is True
    assert root.put(f"{SYNAPSE}/v2/users/{q(uid)}", json={"locked": False}).get_json()[
        "locked"] is False
    # Deactivate through PUT, then reactivation needs a password.
    gone = root.put(f"{SYNAPSE}/v2/users/{q(uid)}", json={"deactivated": True}).get_json()
    assert gone["deactivated"] is True and gone["displayname"] is None
    response = root.put(f"{SYNAPSE}/v2/users/{q(uid)}", json={"deactivated": False})
    assert response.status_code == 400
    back = root.put(f"{SYNAPSE}/v2/users/{q(uid)}",
                    json={"deactivated": False, "password": "third pass"})
    assert back.get_json()["deactivated"] is False
    login = client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"},
        "password": "third pass"})
    assert login.status_code == 200


def test_put_user_refusals(root):
    own = f"{SYNAPSE}/v2/users/{q(root.user_id)}"
    response = root.put(own, json={"admin": False})
    assert (response.status_code, response.get_json()["errcode"]) == (400, "M_INVALID_PARAM")
    assert root.put(own, json={"threepids": [{"medium": "email", "address": "a@b.c"}]}
                    ).status_code == 400
    assert root.put(own, json={"admin": "yes"}).status_code == 400
    assert root.put(f"{SYNAPSE}/v2/users/{q('@x:elsewhere.org')}", json={}).status_code == 400
    assert root.put(f"{SYNAPSE}/v2/users/{q('@BAD user:localhost:8008')}",
                    json={}).status_code == 400


def test_deactivate_reset_password_joined_rooms_devices_whois(client, register_user, root):
    alice = register_user("alice")
    room = create_room(alice)
    joined = ok(root.get(f"{SYNAPSE}/v1/users/{q(alice.user_id)}/joined_rooms"))
    assert joined == {"joined_rooms": [room], "total": 1}

    devices = ok(root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}/devices"))
    assert devices["total"] == 1 and set(devices["devices"][0]) == DEVICE
    assert devices["devices"][0]["device_id"] == alice.device_id
    one = ok(root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}/devices/{alice.device_id}"))
    assert one["user_id"] == alice.user_id
    assert root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}/devices/NOPE").status_code == 404

    whois = ok(root.get(f"{SYNAPSE}/v1/whois/{q(alice.user_id)}"))
    assert whois["user_id"] == alice.user_id and alice.device_id in whois["devices"]

    ok(root.post(f"{SYNAPSE}/v1/reset_password/{q(alice.user_id)}",
                 json={"new_password": "brand new one"}))
    assert alice.get(f"{V3}/account/whoami").status_code == 401
    assert ok(root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}/devices"))["total"] == 0

    bob = register_user("bob")
    ok(root.delete(f"{SYNAPSE}/v2/users/{q(bob.user_id)}/devices/{bob.device_id}"))
    assert bob.get(f"{V3}/account/whoami").status_code == 401

    result = ok(root.post(f"{SYNAPSE}/v1/deactivate/{q(alice.user_id)}", json={"erase": True}))
    assert result == {"id_server_unbind_result": "success"}
    user = ok(root.get(f"{SYNAPSE}/v2/users/{q(alice.user_id)}"))
    assert user["deactivated"] is True and user["erased"] is True

    for path in (f"/v1/users/{q('@ghost:localhost:8008')}/joined_rooms",
                 f"/v2/users/{q('@ghost:localhost:8008')}/devices",
                 f"/v1/whois/{q('@ghost:localhost:8008')}"):
        response = root.get(SYNAPSE + path)
        assert (response.status_code, response.get_json()["errcode"]) == (404, "M_NOT_FOUND")
