"""Identity servers (spec: "Adding Account Administrative Contact Information" bind/unbind,
``id_server_unbind_result``; "Third-party invites"; Server-Server /3pid/onbind), against a
real identity server on 127.0.0.1 over HTTP (helpers/identity_server.py), which the
configuration trusts (``identity_servers.trusted``)."""

import pytest

from homeserver.models.identity import ThreepidBinding
from helpers.api import V3, error, ok
from helpers.identity_server import ACCESS_TOKEN, IdentityServer
from helpers.rooms import create_room, get_state_event, invite, join, put_state_ok, state_map
from helpers.sync import sync

ONBIND = "/_matrix/federation/v1/3pid/onbind"


@pytest.fixture
def id_server():
    server = IdentityServer()
    yield server
    server.close()


@pytest.fixture
def app(make_app):
    return make_app(identity_servers={"trusted": ["127.0.0.1"], "trusted_scheme": "http"})


def bind(user, id_server, address, path=f"{V3}/account/3pid/bind"):
    sid = id_server.validate("email", address)
    return user.post(path, json={"id_server": id_server.name, "id_access_token": ACCESS_TOKEN,
                                 "sid": sid, "client_secret": "a secret"})


def invite_3pid(user, room_id, id_server, address, **extra):
    return user.post(f"{V3}/rooms/{room_id}/invite", json={
        "id_server": id_server.name, "id_access_token": ACCESS_TOKEN, "medium": "email",
        "address": address, **extra})


def membership(user, room_id, target):
    response = get_state_event(user, room_id, "m.room.member", target.user_id)
    return response.get_json().get("membership") if response.status_code == 200 else None


# --- bind and unbind ------------------------------------------------------------------------------

def test_bind_then_unbind_through_the_homeserver(register_user, id_server):
    alice = register_user("alice")
    assert ok(bind(alice, id_server, "alice@example.org")) == {}
    assert id_server.bindings == {("email", "alice@example.org"): alice.user_id}
    # Without id_server: the one it was bound at.
    assert ok(alice.post(f"{V3}/account/3pid/unbind", json={
        "medium": "email", "address": "alice@example.org"})) == {
        "id_server_unbind_result": "success"}
    assert id_server.bindings == {}
    # Nothing recorded any more: no identity server to ask.
    assert ok(alice.post(f"{V3}/account/3pid/unbind", json={
        "medium": "email", "address": "alice@example.org"})) == {
        "id_server_unbind_result": "no-support"}


def test_unstable_paths_as_synapse_serves_them(register_user, id_server):
    alice = register_user("alice")
    ok(bind(alice, id_server, "a@example.org", path="/_matrix/client/unstable/account/3pid/bind"))
    assert ok(alice.post("/_matrix/client/unstable/account/3pid/unbind", json={
        "id_server": id_server.name, "medium": "email", "address": "a@example.org"})) == {
        "id_server_unbind_result": "success"}
    assert id_server.bindings == {}


def test_identity_server_refusals_are_passed_on(register_user, id_server):
    alice = register_user("alice")
    refused = alice.post(f"{V3}/account/3pid/bind", json={
        "id_server": id_server.name, "id_access_token": ACCESS_TOKEN, "sid": "unknown",
        "client_secret": "a secret"})
    error(refused, 400, "M_NO_VALID_SESSION")
    # A bad id_access_token is not the client's own token ending: never M_UNKNOWN_TOKEN.
    sid = id_server.validate("email", "a@example.org")
    bad_token = alice.post(f"{V3}/account/3pid/bind", json={
        "id_server": id_server.name, "id_access_token": "wrong", "sid": sid,
        "client_secret": "s"})
    error(bad_token, 403, "M_FORBIDDEN")
    assert ok(alice.get(f"{V3}/account/whoami"))["user_id"] == alice.user_id
    assert ThreepidBinding.select().count() == 0


def test_bind_validates_the_request(register_user, id_server):
    alice = register_user("alice")
    error(alice.post(f"{V3}/account/3pid/bind", json={"id_server": id_server.name}),
          400, "M_BAD_JSON")
    error(alice.post(f"{V3}/account/3pid/bind", json={
        "id_server": "evil.example/path?x=", "id_access_token": "t", "sid": "1",
        "client_secret": "s"}), 400, "M_INVALID_PARAM")
    assert id_server.requests == []


def test_delete_unbinds_from_the_server_it_was_bound_at(register_user, id_server):
    alice = register_user("alice")
    ok(bind(alice, id_server, "alice@example.org"))
    assert ok(alice.post(f"{V3}/account/3pid/delete", json={
        "medium": "email", "address": "alice@example.org"})) == {
        "id_server_unbind_result": "success"}
    assert id_server.bindings == {}


def test_delete_unbinds_what_was_bound_out_of_band(register_user, id_server):
    alice = register_user("alice")
    id_server.bind_identity("email", "oob@example.org", alice.user_id)
    assert ok(alice.post(f"{V3}/account/3pid/delete", json={
        "medium": "email", "address": "oob@example.org", "id_server": id_server.name})) == {
        "id_server_unbind_result": "success"}
    assert id_server.bindings == {}


def test_an_identity_server_that_refuses_unbinding_is_no_support(register_user, id_server):
    alice = register_user("alice")
    ok(bind(alice, id_server, "alice@example.org"))
    id_server.refuse_unbind = True
    assert ok(alice.post(f"{V3}/account/3pid/unbind", json={
        "medium": "email", "address": "alice@example.org"})) == {
        "id_server_unbind_result": "no-support"}


def test_deactivation_unbinds(register_user, id_server):
    alice = register_user("alice")
    ok(bind(alice, id_server, "alice@example.org"))
    ok(bind(alice, id_server, "work@example.org"))
    deactivated = ok(alice.post(f"{V3}/account/deactivate", json={"auth": {
        "type": "m.login.password", "password": alice.password,
        "identifier": {"type": "m.id.user", "user": alice.user_id}}}))
    assert deactivated == {"id_server_unbind_result": "success"}
    assert id_server.bindings == {}
    assert ThreepidBinding.select().count() == 0


def test_deactivation_reports_no_support_when_unbinding_fails(register_user, id_server):
    alice = register_user("alice")
    ok(bind(alice, id_server, "alice@example.org"))
    id_server.refuse_unbind = True
    deactivated = ok(alice.post(f"{V3}/account/deactivate", json={"auth": {
        "type": "m.login.password", "password": alice.password,
        "identifier": {"type": "m.id.user", "user": alice.user_id}}}))
    assert deactivated == {"id_server_unbind_result": "no-support"}
    assert ThreepidBinding.select().count() == 0


# --- third-party invites ----------------------------------------------------------------------

def test_invite_of_a_bound_address_is_an_ordinary_invite(register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    id_server.bind_identity("email", "bob@example.org", bob.user_id)
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    assert membership(alice, room_id, bob) == "invite"
    assert room_id in sync(bob)["rooms"]["invite"]
    assert not any(e["type"] == "m.room.third_party_invite" for e in state_map(alice, room_id).values())


def test_create_room_with_invite_3pid(register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    id_server.bind_identity("email", "bob@example.org", bob.user_id)
    room_id = ok(alice.post(f"{V3}/createRoom", json={"invite_3pid": [{
        "id_server": id_server.name, "id_access_token": ACCESS_TOKEN, "medium": "email",
        "address": "bob@example.org"}]}))["room_id"]
    assert membership(alice, room_id, bob) == "invite"


def test_unbound_address_then_bound_becomes_a_member(client, register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    pending = [e for e in state_map(alice, room_id).values()
               if e["type"] == "m.room.third_party_invite"]
    assert len(pending) == 1 and pending[0]["content"]["display_name"] == "Bob"
    assert pending[0]["content"]["public_keys"][0]["public_key"] == id_server.public_key
    stored = id_server.invites[("email", "bob@example.org")][0]
    assert (stored["room_id"], stored["sender"]) == (room_id, alice.user_id)
    assert membership(alice, room_id, bob) is None

    ok(client.post(ONBIND, json=id_server.bind_identity("email", "bob@example.org",
                                                        bob.user_id)))
    member = get_state_event(alice, room_id, "m.room.member", bob.user_id).get_json()
    assert member["membership"] == "invite"
    assert member["third_party_invite"]["display_name"] == "Bob"
    assert member["third_party_invite"]["signed"]["token"] == pending[0]["state_key"]
    invited = sync(bob)["rooms"]["invite"][room_id]["invite_state"]["events"]
    assert any(e["type"] == "m.room.member" and e["state_key"] == alice.user_id for e in invited)
    join(bob, room_id)
    assert membership(alice, room_id, bob) == "join"


def test_invite_survives_the_inviter_leaving(client, register_user, id_server):
    alice, carol, bob = register_user("alice"), register_user("carol"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    invite(alice, room_id, carol.user_id)
    join(carol, room_id)
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    ok(alice.post(f"{V3}/rooms/{room_id}/leave", json={}))
    # PUT as the spec writes it; identity servers POST (tested above).
    ok(client.put(ONBIND, json=id_server.bind_identity("email", "bob@example.org",
                                                       bob.user_id)))
    join(bob, room_id)
    assert membership(carol, room_id, bob) == "join"


def test_revoked_key_is_refused(client, register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    body = id_server.bind_identity("email", "bob@example.org", bob.user_id)
    id_server.rotate_keys()  # the key that signed is no longer valid at key_validity_url
    error(client.post(ONBIND, json=body), 403, "M_FORBIDDEN")
    assert membership(alice, room_id, bob) is None
    error(bob.post(f"{V3}/join/{room_id}", json={}), 403, "M_FORBIDDEN")


def test_signature_by_another_key_is_refused(client, register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    id_server.rotate_keys()
    error(client.post(ONBIND, json=id_server.bind_identity("email", "bob@example.org",
                                                           bob.user_id)), 403, "M_FORBIDDEN")
    assert membership(alice, room_id, bob) is None


def test_unreachable_key_validity_url_is_refused(client, register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    body = id_server.bind_identity("email", "bob@example.org", bob.user_id)
    id_server.close()
    error(client.post(ONBIND, json=body), 403, "M_FORBIDDEN")
    assert membership(alice, room_id, bob) is None


def test_join_with_third_party_signed(register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    ok(invite_3pid(alice, room_id, id_server, "bob@example.org"))
    token = id_server.invites[("email", "bob@example.org")][0]["token"]
    signed = id_server.sign({"mxid": bob.user_id, "sender": alice.user_id, "token": token})
    ok(bob.post(f"{V3}/rooms/{room_id}/join", json={"third_party_signed": signed}))
    assert membership(alice, room_id, bob) == "join"
    # Someone else's signed block does not let a third user in.
    carol = register_user("carol")
    error(carol.post(f"{V3}/rooms/{room_id}/join", json={"third_party_signed": signed}),
          403, "M_FORBIDDEN")


def test_third_party_invite_needs_permission(register_user, id_server):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="private_chat")
    error(invite_3pid(bob, room_id, id_server, "x@example.org"), 403, "M_FORBIDDEN")
    levels = get_state_event(alice, room_id, "m.room.power_levels").get_json()
    put_state_ok(alice, room_id, "m.room.power_levels", {**levels, "invite": 50})
    invite(alice, room_id, bob.user_id)
    join(bob, room_id)
    error(invite_3pid(bob, room_id, id_server, "x@example.org"), 403, "M_FORBIDDEN")
    assert id_server.requests == []


def test_invite_body_needs_all_third_party_fields(register_user, id_server):
    alice = register_user("alice")
    room_id = create_room(alice)
    error(alice.post(f"{V3}/rooms/{room_id}/invite", json={
        "id_server": id_server.name, "medium": "email", "address": "x@example.org"}),
        400, "M_BAD_JSON")
    error(alice.post(f"{V3}/rooms/{room_id}/invite", json={}), 400, "M_BAD_JSON")


def test_onbind_refuses_bad_bodies(client):
    error(client.post(ONBIND, data="nope"), 400, "M_NOT_JSON")
    error(client.post(ONBIND, json={"invites": "x"}), 400, "M_BAD_JSON")
    error(client.post(ONBIND, json={"invites": [{"signed": {"token": "t"},
                                                 "room_id": "nope"}]}), 400, "M_INVALID_PARAM")
    assert ok(client.post(ONBIND, json={"medium": "email", "address": "a@b.c",
                                        "mxid": "@a:b.c"})) == {}


def test_only_trusted_identity_servers_when_configured(make_app, register_user_for, id_server):
    """``allow_untrusted: false`` (the tests' default): an identity server the operator did
    not name is refused before any request leaves."""
    strict = make_app(identity_servers={"trusted": ["id.example.org"]})
    alice = register_user_for(strict, "alice")
    error(bind(alice, id_server, "a@example.org"), 400, "M_SERVER_NOT_TRUSTED")
    assert id_server.requests == []


def test_unbind_of_an_address_with_a_nul_byte(register_user, id_server):
    """Never stored (PostgreSQL text cannot hold NUL): nothing to unbind, and no 500."""
    alice = register_user("alice")
    for path in ("unbind", "delete"):
        assert ok(alice.post(f"{V3}/account/3pid/{path}", json={
            "medium": "email", "address": "a\x00@example.org", "id_server": id_server.name})) \
            == {"id_server_unbind_result": "no-support"}
    assert id_server.requests == []
