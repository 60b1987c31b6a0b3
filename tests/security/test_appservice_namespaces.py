"""Attacks through application service namespaces (docs/security.md, "Application services").

- A registration's regex is the bridge author's, matched against IDs anyone picks: a
  backtracking pattern and a long user ID must not hang the server (RE2, linear).
- A service's as_token reaches only its namespaces: masquerading as another local user, or
  as a user of another service's exclusive namespace, is refused; so is creating or deleting
  (MSC4190) a device of a user outside them.
"""

from urllib.parse import quote

from helpers.appservice import SERVER, as_headers, registration, write_registration
from helpers.api import error, ok

V3 = "/_matrix/client/v3"


def test_backtracking_namespace_regex_does_not_hang(make_app, tmp_path, cpu_guard):
    # Exponential for a backtracking engine on "@aaaa...a:" (no "b" ever comes).
    evil = registration(None, users=[{"exclusive": True, "regex": "@(a+)+b"}])
    path = write_registration(tmp_path, evil)
    client = make_app(app_service_config_files=[path]).test_client()
    name = "a" * 200
    body = {"username": name, "password": "pw", "auth": {"type": "m.login.dummy"}}
    ok(client.post(f"{V3}/register", json=body))
    # And with the as_token (namespace checked again for masquerading).
    error(client.get(f"{V3}/account/whoami?user_id={quote(f'@{name}:{SERVER}')}",
                     headers=as_headers()), 403, "M_FORBIDDEN")


def test_a_service_cannot_act_outside_its_namespaces(make_app, tmp_path):
    mine = write_registration(tmp_path, registration(None), "mine.yaml")
    other = write_registration(tmp_path, registration(
        None, id="other", as_token="other-token", hs_token="other-hs", sender="_otherbot",
        users=[{"exclusive": True, "regex": f"@_other_.*:{SERVER}"}], aliases=[]),
        "other.yaml")
    client = make_app(app_service_config_files=[mine, other]).test_client()
    victim = ok(client.post(f"{V3}/register", json={
        "username": "victim", "password": "pw", "auth": {"type": "m.login.dummy"}}))
    ok(client.post(f"{V3}/register", headers=as_headers("other-token"), json={
        "type": "m.login.application_service", "username": "_other_ghost"}))
    for target in (victim["user_id"], f"@_other_ghost:{SERVER}", f"@_otherbot:{SERVER}"):
        error(client.post(f"{V3}/createRoom?user_id={quote(target)}", json={},
                          headers=as_headers()), 403, "M_FORBIDDEN")
        error(client.post(f"{V3}/login", headers=as_headers(), json={
            "type": "m.login.application_service",
            "identifier": {"type": "m.id.user", "user": target}}), 400, "M_EXCLUSIVE")
    # Nor register into another service's exclusive namespace.
    error(client.post(f"{V3}/register", headers=as_headers(), json={
        "type": "m.login.application_service", "username": "_other_mine"}), 400, "M_EXCLUSIVE")


def test_msc4190_creates_and_deletes_devices_only_in_its_namespaces(make_app, tmp_path):
    # A service trusted with device management must not plant a device (a place to receive
    # room keys) on a regular user's account, nor delete theirs without their password.
    path = write_registration(tmp_path, registration(None, **{"io.element.msc4190": True}))
    client = make_app(app_service_config_files=[path]).test_client()
    victim = ok(client.post(f"{V3}/register", json={
        "username": "victim", "password": "pw", "auth": {"type": "m.login.dummy"}}))
    as_victim = f"user_id={quote(victim['user_id'])}"
    error(client.put(f"{V3}/devices/PLANTED?{as_victim}", headers=as_headers(),
                     json={"display_name": "spy"}), 403, "M_FORBIDDEN")
    error(client.delete(f"{V3}/devices/{victim['device_id']}?{as_victim}",
                        headers=as_headers(), json={}), 403, "M_FORBIDDEN")
    victim_auth = {"Authorization": f"Bearer {victim['access_token']}"}
    devices = ok(client.get(f"{V3}/devices", headers=victim_auth))["devices"]
    assert [d["device_id"] for d in devices] == [victim["device_id"]]
    # A regular user cannot create devices this way either.
    error(client.put(f"{V3}/devices/NEWONE", headers=victim_auth, json={}), 404, "M_NOT_FOUND")
