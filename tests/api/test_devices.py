"""Device management: list, get, rename, delete (with user-interactive auth)."""

from helpers.keys import SigningKey, device_keys_for
from helpers.rooms import create_room, join
from helpers.sync import sync
from helpers.user_handle import UserHandle
from helpers.accounts import password_auth

DEVICES = "/_matrix/client/v3/devices"
LOGIN = "/_matrix/client/v3/login"
WHOAMI = "/_matrix/client/v3/account/whoami"


def login(client, user, **extra):
    return client.post(LOGIN, json={"type": "m.login.password",
                                    "password": "correct horse battery",
                                    "identifier": {"type": "m.id.user", "user": user},
                                    **extra}).get_json()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_list_and_get_devices_with_last_seen(client, register_user):
    ada = register_user("ada", initial_device_display_name="Desktop")
    devices = ada.get(DEVICES, environ_base={"REMOTE_ADDR": "192.0.2.7"}).get_json()["devices"]
    assert len(devices) == 1
    device = devices[0]
    assert device["device_id"] == ada.device_id
    assert device["display_name"] == "Desktop"
    assert device["last_seen_ip"] == "192.0.2.7"
    assert isinstance(device["last_seen_ts"], int) and device["last_seen_ts"] > 0
    one = ada.get(f"{DEVICES}/{ada.device_id}")
    assert one.status_code == 200 and one.get_json()["device_id"] == ada.device_id


def test_login_counts_as_seen(client, register_user):
    bo = register_user("bo")
    other = client.post(LOGIN, environ_base={"REMOTE_ADDR": "198.51.100.4"}, json={
        "type": "m.login.password", "password": "correct horse battery",
        "identifier": {"type": "m.id.user", "user": "bo"}}).get_json()
    device = bo.get(f"{DEVICES}/{other['device_id']}").get_json()
    assert device["last_seen_ip"] == "198.51.100.4" and device["last_seen_ts"] > 0


def test_other_users_devices_are_not_found(client, register_user):
    bea = register_user("bea")
    cal = register_user("cal")
    for response in (bea.get(f"{DEVICES}/{cal.device_id}"),
                     bea.put(f"{DEVICES}/{cal.device_id}", json={"display_name": "mine"}),
                     bea.get(f"{DEVICES}/NOSUCHDEVICE")):
        assert response.status_code == 404
        assert response.get_json()["errcode"] == "M_NOT_FOUND"
    # Deleting another user's device ID deletes nothing of theirs.
    assert bea.delete(f"{DEVICES}/{cal.device_id}",
                      json={"auth": password_auth("bea")}).status_code == 200
    assert cal.get(WHOAMI).status_code == 200


def test_rename_device(client, register_user):
    dee = register_user("dee")
    path = f"{DEVICES}/{dee.device_id}"
    assert dee.put(path, json={"display_name": "Phone"}).get_json() == {}
    assert dee.get(path).get_json()["display_name"] == "Phone"
    assert dee.put(path, json={}).status_code == 200
    assert dee.get(path).get_json()["display_name"] == "Phone"
    assert dee.put(path, json={"display_name": None}).status_code == 200
    assert "display_name" not in dee.get(path).get_json()
    assert dee.put(path, json={"display_name": 3}).get_json()["errcode"] == "M_BAD_JSON"


def test_delete_device_needs_password_and_revokes_it(client, register_user):
    eve = register_user("eve")
    other = login(client, "eve", device_id="OLDPHONE")
    path = f"{DEVICES}/OLDPHONE"
    first = eve.delete(path)
    assert first.status_code == 401
    assert first.get_json()["flows"] == [{"stages": ["m.login.password"]}]
    session = first.get_json()["session"]
    wrong = eve.delete(path, json={"auth": password_auth("eve", "bad", session)})
    assert wrong.status_code == 401 and wrong.get_json()["errcode"] == "M_FORBIDDEN"
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 200
    done = eve.delete(path, json={"auth": password_auth("eve", session=session)})
    assert done.status_code == 200 and done.get_json() == {}
    assert client.get(WHOAMI, headers=bearer(other["access_token"])).status_code == 401
    assert eve.get(path).status_code == 404
    # Deleting again is fine ("or had been removed previously").
    assert eve.delete(path, json={"auth": password_auth("eve")}).status_code == 200


def test_delete_own_current_device(client, register_user):
    fox = register_user("fox")
    assert fox.delete(f"{DEVICES}/{fox.device_id}",
                      json={"auth": password_auth("fox")}).status_code == 200
    assert fox.get(WHOAMI).status_code == 401


def test_bulk_delete(client, register_user):
    gem = register_user("gem")
    a = login(client, "gem")
    b = login(client, "gem")
    c = login(client, "gem")
    body = {"devices": [a["device_id"], b["device_id"], "UNKNOWN"]}
    first = gem.post("/_matrix/client/v3/delete_devices", json=body)
    assert first.status_code == 401
    done = gem.post("/_matrix/client/v3/delete_devices",
                    json={**body, "auth": password_auth("gem",
                                                        session=first.get_json()["session"])})
    assert done.status_code == 200
    remaining = {d["device_id"] for d in gem.get(DEVICES).get_json()["devices"]}
    assert remaining == {gem.device_id, c["device_id"]}
    for token in (a["access_token"], b["access_token"]):
        assert client.get(WHOAMI, headers=bearer(token)).status_code == 401
    assert client.get(WHOAMI, headers=bearer(c["access_token"])).status_code == 200


def test_bulk_delete_needs_devices(client, register_user):
    hip = register_user("hip")
    response = hip.post("/_matrix/client/v3/delete_devices", json={"auth": password_auth("hip")})
    assert response.status_code == 400 and response.get_json()["errcode"] == "M_BAD_JSON"
    bad = hip.post("/_matrix/client/v3/delete_devices", json={"devices": [1]})
    assert bad.get_json()["errcode"] == "M_BAD_JSON"


def test_device_endpoints_need_a_token(client):
    assert client.get(DEVICES).get_json()["errcode"] == "M_MISSING_TOKEN"
    assert client.put(f"{DEVICES}/X", json={}).status_code == 401
    assert client.delete(f"{DEVICES}/X", json={}).status_code == 401


def test_device_ids_with_slashes(client, register_user):
    ivy = register_user("ivy", device_id="a/b")
    assert ivy.get(f"{DEVICES}/a%2Fb").get_json()["device_id"] == "a/b"


# --- what other users see ------------------------------------------------------------------------

def test_renaming_a_device_announces_the_device_list(client, register_user):
    amy = register_user("amy")
    bob = register_user("bob")
    join(bob, create_room(amy, preset="public_chat"))
    since = sync(bob)["next_batch"]
    assert amy.put(f"{DEVICES}/{amy.device_id}", json={"display_name": "New"}).status_code == 200
    assert amy.user_id in sync(bob, since=since).get("device_lists", {}).get("changed", [])


def test_logout_removes_the_devices_keys(client, register_user):
    cai = register_user("cai")
    second = login(client, "cai")
    laptop = UserHandle(client, cai.user_id, second["access_token"], second["device_id"],
                        cai.password)
    uploaded = laptop.post("/_matrix/client/v3/keys/upload",
                           json={"device_keys": device_keys_for(laptop, SigningKey())})
    assert uploaded.status_code == 200

    def queried():
        response = cai.post("/_matrix/client/v3/keys/query",
                            json={"device_keys": {cai.user_id: []}}).get_json()
        return set(response["device_keys"].get(cai.user_id, {}))

    assert laptop.device_id in queried()
    assert laptop.post("/_matrix/client/v3/logout").status_code == 200
    assert laptop.device_id not in queried()
    # A device that comes back with the same ID starts without the old keys.
    assert login(client, "cai", device_id=laptop.device_id)["device_id"] == laptop.device_id
    assert laptop.device_id not in queried()


def test_requests_in_quick_succession_write_the_device_once(client, register_user, clock,
                                                             monkeypatch):
    """last_seen moves at most once a minute per token and address: a busy client's requests
    do not each write (on SQLite every write waits for the database's one write lock)."""
    from homeserver.models.users import Device
    from helpers.sql_counter import sql_statements, touching

    from homeserver.services.accounts import access_tokens

    monkeypatch.setattr(access_tokens._seen, "_flushed_at", None)  # no earlier test's flush
    ann = register_user("ann")
    address = {"REMOTE_ADDR": "203.0.113.9"}
    first = ann.get(f"{DEVICES}/{ann.device_id}", environ_base=address).get_json()
    assert first["last_seen_ip"] == "203.0.113.9"
    with sql_statements(monkeypatch) as seen:
        for _ in range(3):
            assert ann.get(WHOAMI, environ_base=address).status_code == 200
    assert not [s for s in touching(seen, Device._meta.table_name) if "UPDATE" in s]
    clock.advance(61_000)
    later = ann.get(f"{DEVICES}/{ann.device_id}", environ_base=address).get_json()
    assert later["last_seen_ts"] == first["last_seen_ts"] + 61_000
    moved = ann.get(f"{DEVICES}/{ann.device_id}",
                    environ_base={"REMOTE_ADDR": "203.0.113.10"}).get_json()
    assert moved["last_seen_ip"] == "203.0.113.10"


def test_last_seen_refreshes_of_many_idle_devices_take_one_write(register_user, clock,
                                                                  monkeypatch):
    """Idle clients re-polling from where they were only move last_seen_ts: one write
    transaction for all of them, not one each (each waited for SQLite's single writer)."""
    from homeserver import db
    from homeserver.models.users import Device
    from homeserver.services.accounts import access_tokens
    from helpers.sql_counter import sql_statements, touching

    monkeypatch.setattr(access_tokens._seen, "_flushed_at", None)  # no earlier test's flush
    address = {"REMOTE_ADDR": "203.0.113.9"}
    users = [register_user(f"idle{n}") for n in range(6)]
    for user in users:
        assert user.get(WHOAMI, environ_base=address).status_code == 200
    clock.advance(61_000)
    user_zero = users[0].get(WHOAMI, environ_base=address)  # written at once: the first
    assert user_zero.status_code == 200
    with sql_statements(monkeypatch) as statements:
        for user in users[1:]:
            assert user.get(WHOAMI, environ_base=address).status_code == 200
    assert not [s for s in touching(statements, Device._meta.table_name) if "UPDATE" in s]
    clock.advance(61_000)
    with sql_statements(monkeypatch) as statements:
        assert users[0].get(WHOAMI, environ_base=address).status_code == 200
    updates = [s for s in touching(statements, Device._meta.table_name) if "UPDATE" in s]
    assert len(updates) == 6  # everyone's time, in one transaction
    with db.database.obj.connection_context():
        stored = {row.user_id: row.last_seen_ts for row in Device.select()}
    assert all(stored[user.user_id] >= clock.now - 61_000 for user in users)
    # A new address is not held back.
    moved = users[3].get(f"{DEVICES}/{users[3].device_id}",
                         environ_base={"REMOTE_ADDR": "203.0.113.10"}).get_json()
    assert moved["last_seen_ip"] == "203.0.113.10"


def test_a_process_new_to_a_token_writes_nothing_for_the_same_address(register_user,
                                                                       monkeypatch):
    """Another worker (or a restarted one) serving a client it has not seen before writes
    nothing when the device's address and client are the ones stored: a thousand clients
    reconnecting do not queue a thousand writes."""
    from homeserver.models.users import Device
    from homeserver.services.accounts import access_tokens
    from helpers.sql_counter import sql_statements, touching

    address = {"REMOTE_ADDR": "203.0.113.9"}
    ann = register_user("ann")
    assert ann.get(WHOAMI, environ_base=address).status_code == 200
    monkeypatch.setattr(access_tokens, "_touched", {})  # what a new process knows
    with sql_statements(monkeypatch) as statements:
        assert ann.get(WHOAMI, environ_base=address).status_code == 200
    assert not [s for s in touching(statements, Device._meta.table_name) if "UPDATE" in s]
