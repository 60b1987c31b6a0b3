"""Application services on the client-server side (spec: Application Service API "Client-
Server API Extensions", and the Client-Server API's m.login.application_service): as_token
requests and identity assertion, registration and login of namespace users, exclusive
namespaces, ping, per-network directories, rate limits, third-party lookups."""

from urllib.parse import quote

import pytest

from appservice_support import (AS_TOKEN, HS_TOKEN, SERVER, as_headers,  # noqa: F401
                                fake_service, register_user_on, registration, unused_port,
                                write_registration)
from rooms_support import create_room, error, ok

V3 = "/_matrix/client/v3"
APP_TYPE = "m.login.application_service"


@pytest.fixture
def as_app(make_app, tmp_path):
    def build(url=None, **extra):
        path = write_registration(tmp_path, registration(url, **extra))
        return make_app(app_service_config_files=[path])
    return build


@pytest.fixture
def as_client(as_app):
    return as_app().test_client()


def register_as(client, username, **extra):
    return client.post(f"{V3}/register", headers=as_headers(),
                       json={"type": APP_TYPE, "username": username, **extra})


def whoami(client, user_id=None, token=AS_TOKEN, device_id=None):
    query = {}
    if user_id:
        query["user_id"] = user_id
    if device_id:
        query["device_id"] = device_id
    return client.get(f"{V3}/account/whoami", query_string=query, headers=as_headers(token))


def test_as_token_acts_as_the_sender(as_client):
    assert ok(whoami(as_client)) == {"user_id": f"@_bridgebot:{SERVER}", "is_guest": False}


def test_registration_in_the_namespace_without_uia(as_client):
    body = ok(register_as(as_client, "_bridge_alice"))
    assert body["user_id"] == f"@_bridge_alice:{SERVER}"
    assert {"access_token", "device_id"} <= set(body)
    # The token it got is an ordinary user's token.
    me = ok(as_client.get(f"{V3}/account/whoami",
                          headers={"Authorization": f"Bearer {body['access_token']}"}))
    assert me["user_id"] == body["user_id"]
    inhibited = ok(register_as(as_client, "_bridge_bob", inhibit_login=True))
    assert set(inhibited) == {"user_id", "home_server"}


def test_registration_outside_the_namespace_is_exclusive(as_client):
    error(register_as(as_client, "alice"), 400, "M_EXCLUSIVE")
    error(register_as(as_client, "@_bridge_x:elsewhere.example"), 400, "M_INVALID_USERNAME")


def test_registration_type_needs_the_as_token(as_client):
    alice = register_user_on(as_client, "alice")
    body = {"type": APP_TYPE, "username": "_bridge_x"}
    error(as_client.post(f"{V3}/register", json=body), 401, "M_MISSING_TOKEN")
    error(as_client.post(f"{V3}/register", json=body, headers=alice.headers), 403, "M_FORBIDDEN")
    error(as_client.post(f"{V3}/register", json=body, headers=as_headers("wrong")), 401,
          "M_UNKNOWN_TOKEN")


def test_regular_users_cannot_take_exclusive_ids(as_app):
    client = as_app(users=[{"exclusive": True, "regex": f"@irc_.*:{SERVER}"}]).test_client()
    attempt = {"username": "irc_mallory", "password": "pw", "auth": {"type": "m.login.dummy"}}
    error(client.post(f"{V3}/register", json=attempt), 400, "M_EXCLUSIVE")
    error(client.get(f"{V3}/register/available?username=IRC_mallory"), 400, "M_EXCLUSIVE")
    ok(register_as(client, "irc_mallory"))  # the service itself may


def test_masquerading_within_the_namespace_only(as_client):
    ok(register_as(as_client, "_bridge_alice"))
    bob = register_user_on(as_client, "bob")
    assert ok(whoami(as_client, f"@_bridge_alice:{SERVER}"))["user_id"] == \
        f"@_bridge_alice:{SERVER}"
    # A real user outside the namespace: the attack a leaked-but-scoped token must not allow.
    error(whoami(as_client, bob.user_id), 403, "M_FORBIDDEN")
    error(whoami(as_client, f"@_bridge_unregistered:{SERVER}"), 403, "M_FORBIDDEN")
    error(whoami(as_client, "@_bridge_alice:elsewhere.example"), 403, "M_FORBIDDEN")
    error(whoami(as_client, "not a user id"), 403, "M_FORBIDDEN")
    # Regular users cannot assert identities.
    assert ok(bob.get(f"{V3}/account/whoami?user_id={quote(f'@_bridge_alice:{SERVER}')}")
              )["user_id"] == bob.user_id


def test_device_masquerading(as_client):
    body = ok(register_as(as_client, "_bridge_alice"))
    alice = f"@_bridge_alice:{SERVER}"
    me = ok(whoami(as_client, alice, device_id=body["device_id"]))
    assert me["device_id"] == body["device_id"]
    error(whoami(as_client, alice, device_id="NOTADEVICE"), 400, "M_UNKNOWN_DEVICE")


def test_appservice_login(as_client):
    ok(register_as(as_client, "_bridge_alice", inhibit_login=True))
    login = {"type": APP_TYPE, "identifier": {"type": "m.id.user", "user": "_bridge_alice"}}
    body = ok(as_client.post(f"{V3}/login", json=login, headers=as_headers()))
    assert body["user_id"] == f"@_bridge_alice:{SERVER}" and body["access_token"]
    error(as_client.post(f"{V3}/login", json=login), 403, "M_FORBIDDEN")
    other = {"type": APP_TYPE, "identifier": {"type": "m.id.user", "user": "someone"}}
    error(as_client.post(f"{V3}/login", json=other, headers=as_headers()), 400, "M_EXCLUSIVE")
    never = {"type": APP_TYPE, "identifier": {"type": "m.id.user", "user": "_bridge_never"}}
    error(as_client.post(f"{V3}/login", json=never, headers=as_headers()), 403, "M_FORBIDDEN")
    flows = [f["type"] for f in ok(as_client.get(f"{V3}/login"))["flows"]]
    assert APP_TYPE in flows


def test_login_flows_without_services(client):
    assert APP_TYPE not in [f["type"] for f in ok(client.get(f"{V3}/login"))["flows"]]


def test_exclusive_aliases(as_client):
    alice = register_user_on(as_client, "alice")
    room_id = create_room(alice)
    alias = quote(f"#_bridge_room:{SERVER}")
    error(alice.put(f"{V3}/directory/room/{alias}", json={"room_id": room_id}), 400,
          "M_EXCLUSIVE")
    error(alice.post(f"{V3}/createRoom", json={"room_alias_name": "_bridge_room2"}), 400,
          "M_EXCLUSIVE")
    # The service itself makes aliases of its namespace, for rooms it is not in.
    ok(as_client.put(f"{V3}/directory/room/{alias}", json={"room_id": room_id},
                     headers=as_headers()))
    assert ok(alice.get(f"{V3}/directory/room/{alias}"))["room_id"] == room_id
    ok(as_client.delete(f"{V3}/directory/room/{alias}", headers=as_headers()))


def test_rate_limited_false_lifts_limits(make_app, tmp_path):
    limits = {"enabled": True, "messages_per_user": {"per_second": 0.001, "burst": 1}}
    free = write_registration(tmp_path, registration(None, rate_limited=False), "free.yaml")
    limited = write_registration(tmp_path, registration(
        None, id="limited", as_token="limited-token", hs_token="limited-hs",
        sender="_limitedbot", users=[], aliases=[]), "limited.yaml")
    client = make_app(app_service_config_files=[free, limited], rate_limits=limits
                      ).test_client()
    for _ in range(3):
        ok(client.post(f"{V3}/createRoom", json={}, headers=as_headers()))
    ok(client.post(f"{V3}/createRoom", json={}, headers=as_headers("limited-token")))
    error(client.post(f"{V3}/createRoom", json={}, headers=as_headers("limited-token")), 429,
          "M_LIMIT_EXCEEDED")


def test_ping(as_app, fake_service):  # noqa: F811
    client = as_app(fake_service.url).test_client()
    url = "/_matrix/client/v1/appservice/bridge/ping"
    body = ok(client.post(url, json={"transaction_id": "t1"}, headers=as_headers()))
    assert isinstance(body["duration_ms"], int)
    [ping] = fake_service.pings
    assert ping["path"] == "/_matrix/app/v1/ping" and ping["body"] == {"transaction_id": "t1"}
    assert ping["auth"] == f"Bearer {HS_TOKEN}"
    error(client.post("/_matrix/client/v1/appservice/other/ping", json={},
                      headers=as_headers()), 403, "M_FORBIDDEN")


def test_ping_errors(as_app):
    client = as_app(None).test_client()
    url = "/_matrix/client/v1/appservice/bridge/ping"
    error(client.post(url, json={}, headers=as_headers()), 400, "M_URL_NOT_SET")
    alice = register_user_on(client, "alice")
    error(alice.post(url, json={}), 403, "M_FORBIDDEN")


def test_ping_of_a_service_that_is_down(make_app, tmp_path, unused_port):  # noqa: F811
    path = write_registration(tmp_path, registration(f"http://127.0.0.1:{unused_port}"))
    client = make_app(app_service_config_files=[path]).test_client()
    error(client.post("/_matrix/client/v1/appservice/bridge/ping", json={},
                      headers=as_headers()), 502, "M_CONNECTION_FAILED")


def test_network_directory(as_client):
    alice = register_user_on(as_client, "alice")
    room_id = create_room(alice, preset="public_chat")
    listing = f"{V3}/directory/list/appservice/irc/{room_id}"
    error(alice.put(listing, json={"visibility": "public"}), 403, "M_FORBIDDEN")
    ok(as_client.put(listing, json={"visibility": "public"}, headers=as_headers()))

    def rooms(**body):
        return [c["room_id"] for c in ok(alice.post(f"{V3}/publicRooms", json=body))["chunk"]]

    assert rooms() == []
    assert rooms(third_party_instance_id="bridge|irc") == [room_id]
    assert rooms(third_party_instance_id="bridge|other") == []
    assert rooms(include_all_networks=True) == [room_id]
    ok(as_client.delete(listing, headers=as_headers()))
    assert rooms(third_party_instance_id="bridge|irc") == []


def test_thirdparty_lookups_go_to_the_service(as_app, fake_service):  # noqa: F811
    client = as_app(fake_service.url, protocols=["irc"]).test_client()
    fake_service.thirdparty = {
        "/_matrix/app/v1/thirdparty/protocol/irc": {
            "user_fields": ["network", "nickname"], "location_fields": ["network", "channel"],
            "icon": "mxc://example.org/irc", "field_types": {},
            "instances": [{"desc": "Libera", "network_id": "libera", "fields": {}}]},
        "/_matrix/app/v1/thirdparty/location/irc": [
            {"alias": f"#_bridge_libera_matrix:{SERVER}", "protocol": "irc",
             "fields": {"network": "libera", "channel": "#matrix"}}],
    }
    alice = register_user_on(client, "alice")
    protocols = ok(alice.get(f"{V3}/thirdparty/protocols"))
    assert protocols["irc"]["instances"][0]["instance_id"] == "bridge|libera"
    assert ok(alice.get(f"{V3}/thirdparty/protocol/irc"))["icon"] == "mxc://example.org/irc"
    found = ok(alice.get(f"{V3}/thirdparty/location/irc?network=libera&channel=%23matrix"))
    assert found[0]["fields"]["channel"] == "#matrix"
    query = [q for q in fake_service.queries if q.startswith("/_matrix/app/v1/thirdparty/loc")]
    assert "channel=%23matrix" in query[0] and "access_token" not in query[0]
    error(alice.get(f"{V3}/thirdparty/protocol/xmpp"), 404, "M_NOT_FOUND")
    # Metadata is cached: the service is asked once.
    ok(alice.get(f"{V3}/thirdparty/protocols"))
    asked = [q for q in fake_service.queries if q.endswith("/thirdparty/protocol/irc")]
    assert len(asked) == 1


def test_unknown_namespace_user_is_queried_before_an_invite(as_app, fake_service):  # noqa: F811
    client = as_app(fake_service.url).test_client()
    ghost = f"@_bridge_new:{SERVER}"
    fake_service.users.add(ghost)
    fake_service.on_query = lambda kind, user_id: ok(register_as(
        client, user_id, inhibit_login=True))
    alice = register_user_on(client, "alice")
    room_id = create_room(alice)
    ok(alice.post(f"{V3}/rooms/{room_id}/invite", json={"user_id": ghost}))
    assert f"/_matrix/app/v1/users/{quote(ghost, safe='')}" in fake_service.queries
    # An unknown user the service does not know stays unknown.
    error(alice.post(f"{V3}/rooms/{room_id}/invite", json={"user_id": f"@_bridge_no:{SERVER}"}),
          404, "M_NOT_FOUND")


def test_unknown_namespace_alias_is_queried(as_app, fake_service):  # noqa: F811
    client = as_app(fake_service.url).test_client()
    alias = f"#_bridge_portal:{SERVER}"
    fake_service.aliases.add(alias)

    def make_room(kind, wanted):
        room_id = ok(client.post(f"{V3}/createRoom", json={"preset": "public_chat"},
                                 headers=as_headers()))["room_id"]
        ok(client.put(f"{V3}/directory/room/{quote(wanted)}", json={"room_id": room_id},
                      headers=as_headers()))

    fake_service.on_query = make_room
    alice = register_user_on(client, "alice")
    room_id = ok(alice.post(f"{V3}/join/{quote(alias)}", json={}))["room_id"]
    assert ok(alice.get(f"{V3}/directory/room/{quote(alias)}"))["room_id"] == room_id
    error(alice.get(f"{V3}/directory/room/{quote(f'#_bridge_none:{SERVER}')}"), 404,
          "M_NOT_FOUND")


def test_service_deactivates_its_user_without_uia(as_client):
    ok(register_as(as_client, "_bridge_gone", inhibit_login=True))
    gone = f"@_bridge_gone:{SERVER}"
    ok(as_client.post(f"{V3}/account/deactivate?user_id={quote(gone)}", json={},
                      headers=as_headers()))
    error(whoami(as_client, gone), 403, "M_USER_DEACTIVATED")
