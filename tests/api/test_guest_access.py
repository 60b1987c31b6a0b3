"""Guest access (spec: Guest Access): POST /register?kind=guest, the endpoints a guest may call
(every routed endpoint walked with a guest token), joins only while m.room.guest_access is
can_join, guests kicked when it stops being, and guests kept out of the user directory."""

from __future__ import annotations

import threading

import pytest

from homeserver.api.guest_access import GUEST_ENDPOINTS
from homeserver.services import background
from homeserver.services.accounts import guest_expiry
from helpers.api import V3, error, ok, q
from helpers.rooms import create_room, put_state, put_state_ok, send, send_ok
from helpers.synapse_admin import SYNAPSE, root  # noqa: F401 (root: a fixture)
from helpers.error_responses import routed_requests, rule_path
from helpers.user_handle import UserHandle

GUESTS = {"registration": {"enabled": True, "allow_guests": True}}
# Called in the walk below only through their own tests: they end the guest's session.
SESSION_ENDING = {"login.logout", "login.logout_all"}


@pytest.fixture
def app(make_app):
    return make_app(**GUESTS)


def register_guest(client, **body) -> UserHandle:
    data = ok(client.post(f"{V3}/register?kind=guest", json=body))
    return UserHandle(client, data["user_id"], data["access_token"], data["device_id"], None)


@pytest.fixture
def guest(client):
    return register_guest(client)


def guest_room(owner, guest_access="can_join", **body) -> str:
    room = create_room(owner, **{"preset": "public_chat", **body})
    put_state_ok(owner, room, "m.room.guest_access", {"guest_access": guest_access})
    return room


def membership(user, room, target) -> str | None:
    response = user.get(f"{V3}/rooms/{q(room)}/state/m.room.member/{q(target)}")
    return response.get_json().get("membership") if response.status_code == 200 else None


def test_guest_registration_is_refused_unless_enabled(make_app):
    client = make_app().test_client()
    error(client.post(f"{V3}/register?kind=guest", json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")


def test_guest_registers_without_password_or_interactive_auth(client):
    data = ok(client.post(f"{V3}/register?kind=guest",
                          json={"initial_device_display_name": "Visitor's browser"}))
    assert data["user_id"].startswith("@guest-")
    guest = UserHandle(client, data["user_id"], data["access_token"], data["device_id"], None)
    assert ok(guest.get(f"{V3}/account/whoami")) == {
        "user_id": guest.user_id, "device_id": guest.device_id, "is_guest": True}
    device = ok(guest.get(f"{V3}/devices/{q(guest.device_id)}"))
    assert device["display_name"] == "Visitor's browser"
    # An empty body (or none at all) is a guest registration too.
    other = ok(client.post(f"{V3}/register?kind=guest"))
    assert other["user_id"] != guest.user_id


def test_real_accounts_are_not_guests(alice):
    assert ok(alice.get(f"{V3}/account/whoami"))["is_guest"] is False


def test_guest_may_not_create_rooms(guest):
    error(guest.post(f"{V3}/createRoom", json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")


def test_every_endpoint_not_listed_refuses_guests(app, client, guest):
    """Walks every routed endpoint with a guest token: a listed one never answers
    M_GUEST_ACCESS_FORBIDDEN (for the plausible arguments the walk uses), every other one
    that needs a token answers exactly that."""
    refused, allowed, public_endpoints, problems = [], [], [], []
    for rule, method in routed_requests(app):
        if rule.endpoint in SESSION_ENDING:
            continue
        path = rule_path(rule, {"user_id": guest.user_id})
        public = client.open(path, method=method).get_json(silent=True) or {}
        response = guest.request(method, path, json={})
        errcode = (response.get_json(silent=True) or {}).get("errcode")
        where = f"{method} {rule.rule} ({rule.endpoint}): {response.status_code} {errcode}"
        if rule.endpoint in GUEST_ENDPOINTS:
            allowed.append(rule.endpoint)
            if errcode == "M_GUEST_ACCESS_FORBIDDEN":
                problems.append(f"listed for guests but refused: {where}")
        elif public.get("errcode") != "M_MISSING_TOKEN" or errcode == "M_MISSING_TOKEN":
            # Needs no client access token (e.g. federation's OpenID userinfo takes its own):
            # a guest's is not looked at.
            public_endpoints.append(rule.endpoint)
        elif (response.status_code, errcode) == (403, "M_GUEST_ACCESS_FORBIDDEN"):
            refused.append(rule.endpoint)
        else:
            problems.append(f"not listed for guests but answered: {where}")
    assert not problems, "\n".join(problems)
    assert "rooms.create_room" in refused and "account.deactivate" in refused
    assert len(set(refused)) > 60
    assert "login.login" in public_endpoints and "profile.get_profile" in public_endpoints
    # Every listed endpoint exists (a renamed view would silently close it to guests).
    assert set(GUEST_ENDPOINTS) - SESSION_ENDING <= set(allowed)


def test_guest_may_set_only_its_display_name(guest):
    ok(guest.put(f"{V3}/profile/{q(guest.user_id)}/displayname", json={"displayname": "creeper"}))
    assert ok(guest.get(f"{V3}/profile/{q(guest.user_id)}/displayname")) == {
        "displayname": "creeper"}
    error(guest.put(f"{V3}/profile/{q(guest.user_id)}/avatar_url", json={"avatar_url": "mxc://a/b"}),
          403, "M_GUEST_ACCESS_FORBIDDEN")
    error(guest.delete(f"{V3}/profile/{q(guest.user_id)}/avatar_url"),
          403, "M_GUEST_ACCESS_FORBIDDEN")


def test_guest_logout_ends_its_session(guest):
    ok(guest.post(f"{V3}/logout", json={}))
    error(guest.get(f"{V3}/account/whoami"), 401, "M_UNKNOWN_TOKEN")


def test_guest_joins_only_rooms_open_to_guests(alice, guest):
    closed = create_room(alice, preset="public_chat")  # guest_access: forbidden (the preset)
    error(guest.post(f"{V3}/rooms/{q(closed)}/join", json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")
    error(guest.post(f"{V3}/join/{q(closed)}", json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")
    # An invite does not open the room to a guest either.
    private = guest_room(alice, "forbidden", preset="private_chat")
    ok(alice.post(f"{V3}/rooms/{q(private)}/invite", json={"user_id": guest.user_id}))
    error(guest.post(f"{V3}/rooms/{q(private)}/join", json={}), 403, "M_GUEST_ACCESS_FORBIDDEN")
    assert membership(alice, closed, guest.user_id) is None

    room = guest_room(alice)
    ok(guest.post(f"{V3}/join/{q(room)}", json={}))
    event_id = send_ok(guest, room, "hi from a guest")
    chunk = ok(alice.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=1"))["chunk"]
    assert [(e["event_id"], e["sender"]) for e in chunk] == [(event_id, guest.user_id)]
    ok(guest.post(f"{V3}/rooms/{q(room)}/leave", json={}))
    assert membership(alice, room, guest.user_id) == "leave"


def test_guest_may_not_change_others_membership_through_state(alice, guest, register_user):
    room = guest_room(alice)
    ok(guest.post(f"{V3}/rooms/{q(room)}/join", json={}))
    bob = register_user("bob")
    error(put_state(guest, room, "m.room.member", {"membership": "invite"}, bob.user_id),
          403, "M_GUEST_ACCESS_FORBIDDEN")
    ok(put_state(guest, room, "m.room.member", {"membership": "leave"}, guest.user_id))


def test_guests_are_kicked_when_guest_access_is_revoked(alice, guest, client):
    room = guest_room(alice)
    other_guest = register_guest(client)
    for visitor in (guest, other_guest):
        ok(visitor.post(f"{V3}/rooms/{q(room)}/join", json={}))
    since = ok(guest.get(f"{V3}/sync?timeout=0"))["next_batch"]
    assert room in ok(guest.get(f"{V3}/sync?timeout=0"))["rooms"]["join"]

    put_state_ok(alice, room, "m.room.guest_access", {"guest_access": "forbidden"})

    for visitor in (guest, other_guest):
        assert membership(alice, room, visitor.user_id) == "leave"
    # The kick reaches the guest's sync as the room under "leave", with its leave event.
    left = ok(guest.get(f"{V3}/sync?timeout=0&since={since}"))["rooms"]["leave"][room]
    leaves = [e for e in left["timeline"]["events"]
              if e["type"] == "m.room.member" and e["state_key"] == guest.user_id]
    assert leaves and leaves[-1]["content"]["membership"] == "leave"
    error(send(guest, room, "still here?"), 403, "M_FORBIDDEN")
    # The members who are not guests stay; setting can_join again lets guests back in.
    assert membership(alice, room, alice.user_id) == "join"
    put_state_ok(alice, room, "m.room.guest_access", {"guest_access": "can_join"})
    ok(guest.post(f"{V3}/rooms/{q(room)}/join", json={}))


def test_guest_upgrades_to_a_full_account_keeping_its_rooms(alice, guest, client):
    room = guest_room(alice)
    ok(guest.post(f"{V3}/rooms/{q(room)}/join", json={}))
    sent = send_ok(guest, room, "before upgrading")
    localpart = guest.user_id[1:].split(":")[0]
    body = {"username": localpart, "password": "a long new password",
            "guest_access_token": guest.access_token}
    first = client.post(f"{V3}/register", json=body)
    assert first.status_code == 401 and "session" in first.get_json()
    data = ok(client.post(f"{V3}/register", json={
        **body, "auth": {"type": "m.login.dummy", "session": first.get_json()["session"]}}))
    assert data["user_id"] == guest.user_id
    full = UserHandle(client, data["user_id"], data["access_token"], data["device_id"],
                      "a long new password")
    assert ok(full.get(f"{V3}/account/whoami"))["is_guest"] is False
    create_room(full)  # no longer refused
    assert room in ok(full.get(f"{V3}/joined_rooms"))["joined_rooms"]
    chunk = ok(full.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=1"))["chunk"]
    assert [e["event_id"] for e in chunk] == [sent]
    ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
        "password": "a long new password"}))


def test_guest_token_upgrades_only_its_own_account(guest, client, alice):
    other = register_guest(client)
    other_localpart = other.user_id[1:].split(":")[0]
    body = {"username": other_localpart, "password": "a long new password",
            "guest_access_token": guest.access_token, "auth": {"type": "m.login.dummy"}}
    error(client.post(f"{V3}/register", json=body), 403, "M_FORBIDDEN")
    # A real account's token upgrades nothing, nor takes a real account's name.
    body = {"username": "alice", "password": "a long new password",
            "guest_access_token": alice.access_token, "auth": {"type": "m.login.dummy"}}
    error(client.post(f"{V3}/register", json=body), 403, "M_FORBIDDEN")
    assert ok(other.get(f"{V3}/account/whoami"))["is_guest"] is True


def test_guests_are_not_in_the_user_directory(alice, guest):
    room = guest_room(alice)
    ok(guest.put(f"{V3}/profile/{q(guest.user_id)}/displayname", json={"displayname": "Lurker"}))
    ok(guest.post(f"{V3}/rooms/{q(room)}/join", json={}))
    found = ok(alice.post(f"{V3}/user_directory/search", json={"search_term": "lurker"}))
    assert found["results"] == []
    found = ok(alice.post(f"{V3}/user_directory/search", json={"search_term": "guest"}))
    assert found["results"] == []


def test_admins_see_who_is_a_guest(guest, alice):
    assert ok(alice.get(f"{V3}/admin/whois/{q(alice.user_id)}"))["is_guest"] is False
    error(guest.get(f"{V3}/admin/whois/{q(guest.user_id)}"), 403, "M_GUEST_ACCESS_FORBIDDEN")


def test_guest_registration_is_rate_limited_per_address_apart_from_real_ones(make_app):
    client = make_app(**GUESTS, rate_limits={
        "enabled": True, "guest_register_per_ip": {"per_second": 0.001, "burst": 2},
        "register_per_ip": {"per_second": 0.001, "burst": 2}}).test_client()
    for _ in range(2):
        ok(client.post(f"{V3}/register?kind=guest", json={}))
    error(client.post(f"{V3}/register?kind=guest", json={}), 429, "M_LIMIT_EXCEEDED")
    # Real registrations from the same address still have their own allowance.
    ok(client.post(f"{V3}/register", json={"username": "real", "password": "a fine password",
                                            "auth": {"type": "m.login.dummy"}}))


HOUR_MS = 3_600_000


def test_idle_guests_expire_with_their_devices(make_app, clock):
    client = make_app(registration={"enabled": True, "allow_guests": True,
                                    "guest_idle_expiry_ms": HOUR_MS}).test_client()
    data = ok(client.post(f"{V3}/register", json={
        "username": "alice", "password": "alice's password", "auth": {"type": "m.login.dummy"}}))
    alice = UserHandle(client, data["user_id"], data["access_token"], data["device_id"], None)
    room = guest_room(alice)
    idle, active = register_guest(client), register_guest(client)
    for visitor in (idle, active):
        ok(visitor.post(f"{V3}/rooms/{q(room)}/join", json={}))
    # The registration started the sweep in this process.
    assert "guest-expiry" in [thread.name for thread in background.running()]

    clock.advance(HOUR_MS // 2)
    ok(active.get(f"{V3}/account/whoami"))  # seen half-way: not idle for an hour yet
    clock.advance(HOUR_MS // 2 + 1000)
    assert guest_expiry.expire_idle(HOUR_MS) == [idle.user_id]  # what each sweep runs

    error(idle.get(f"{V3}/account/whoami"), 401, "M_UNKNOWN_TOKEN")
    assert membership(alice, room, idle.user_id) == "leave"
    assert membership(alice, room, active.user_id) == "join"
    assert ok(active.get(f"{V3}/account/whoami"))["user_id"] == active.user_id
    # An expired guest's ID is not handed out again, nor can it be upgraded.
    localpart = idle.user_id[1:].split(":")[0]
    error(client.post(f"{V3}/register", json={
        "username": localpart, "password": "a long new password",
        "guest_access_token": idle.access_token, "auth": {"type": "m.login.dummy"}}),
        403, "M_FORBIDDEN")
    assert guest_expiry.expire_idle(HOUR_MS) == []


def test_upgraded_accounts_never_expire_as_guests(make_app, clock):
    client = make_app(registration={"enabled": True, "allow_guests": True,
                                    "guest_idle_expiry_ms": HOUR_MS}).test_client()
    guest = register_guest(client)
    localpart = guest.user_id[1:].split(":")[0]
    ok(client.post(f"{V3}/register", json={
        "username": localpart, "password": "a long new password",
        "guest_access_token": guest.access_token, "auth": {"type": "m.login.dummy"}}))
    clock.advance(2 * HOUR_MS)
    assert guest_expiry.expire_idle(HOUR_MS) == []
    assert ok(guest.get(f"{V3}/account/whoami"))["is_guest"] is False


@pytest.mark.parametrize("visibility, readable", [("world_readable", True), ("shared", False),
                                                  ("invited", False), ("joined", False)])
def test_history_visibility_applies_to_guests_who_have_not_joined(alice, guest, visibility,
                                                                   readable):
    room = guest_room(alice)
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": visibility})
    event_id = send_ok(alice, room, "before the guest came")
    reads = {
        "messages": guest.get(f"{V3}/rooms/{q(room)}/messages?dir=b"),
        "context": guest.get(f"{V3}/rooms/{q(room)}/context/{q(event_id)}"),
        "event": guest.get(f"{V3}/rooms/{q(room)}/event/{q(event_id)}"),
        "state": guest.get(f"{V3}/rooms/{q(room)}/state"),
        "initialSync": guest.get(f"{V3}/rooms/{q(room)}/initialSync"),
        "relations": guest.get(f"/_matrix/client/v1/rooms/{q(room)}/relations/{q(event_id)}"),
    }
    if readable:
        assert {name: r.status_code for name, r in reads.items()} == dict.fromkeys(reads, 200)
        assert event_id in [e["event_id"] for e in reads["messages"].get_json()["chunk"]]
        assert reads["event"].get_json()["content"]["body"] == "before the guest came"
    else:
        for name, response in reads.items():
            assert response.status_code in (403, 404), (name, response.get_json())
            assert response.get_json()["errcode"] in ("M_FORBIDDEN", "M_NOT_FOUND"), name
    # Reading never made the guest a member.
    assert membership(alice, room, guest.user_id) is None


def test_guest_names_are_reserved_for_guests(client):
    """Nobody registers a name that passes for a guest's (or that a guest is given next)."""
    error(client.post(f"{V3}/register", json={
        "username": "guest-admin00000", "password": "a long new password",
        "auth": {"type": "m.login.dummy"}}), 400, "M_INVALID_USERNAME")
    error(client.get(f"{V3}/register/available?username=guest-admin00000"),
          400, "M_INVALID_USERNAME")


def test_a_waiting_guest_sync_wakes_with_the_kick(app, alice, guest):
    room = guest_room(alice)
    ok(guest.post(f"{V3}/rooms/{q(room)}/join", json={}))
    since = ok(guest.get(f"{V3}/sync?timeout=0"))["next_batch"]
    result = {}
    started = threading.Event()

    def poll():
        started.set()
        result["response"] = app.test_client().get(f"{V3}/sync?timeout=60000&since={since}",
                                                   headers=guest.headers)

    waiter = threading.Thread(target=poll, daemon=True)
    waiter.start()
    started.wait(10)
    put_state_ok(alice, room, "m.room.guest_access", {"guest_access": "forbidden"})
    waiter.join(120)
    assert not waiter.is_alive()
    left = ok(result["response"])["rooms"]["leave"][room]
    assert any(e["type"] == "m.room.member" and e["state_key"] == guest.user_id
               and e["content"]["membership"] == "leave" for e in left["timeline"]["events"])


def test_admin_user_list_marks_guests(root, guest):
    users = {u["name"]: u for u in ok(root.get(f"{SYNAPSE}/v2/users"))["users"]}
    assert users[guest.user_id]["is_guest"] is True
    assert users[root.user_id]["is_guest"] is False
    assert ok(root.get(f"{SYNAPSE}/v2/users/{q(guest.user_id)}"))["is_guest"] is True
    without = ok(root.get(f"{SYNAPSE}/v2/users?guests=false"))["users"]
    assert [u["name"] for u in without] == [root.user_id]
    ordered = ok(root.get(f"{SYNAPSE}/v2/users?order_by=is_guest&dir=b"))["users"]
    assert [u["name"] for u in ordered][0] == guest.user_id
