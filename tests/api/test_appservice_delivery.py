"""Homeserver -> application service: transactions (spec: Application Service API, "Pushing
events"), to a service run by the test on 127.0.0.1: what is sent, in order, once, with the
hs_token; retried with the same txnId after failures and restarts."""

import pytest

from helpers.appservice import (HS_TOKEN, SERVER, as_headers, fake_service,  # noqa: F401
                                register_user_on, registration, service_app,
                                write_registration)
from homeserver.models.appservice import AppServiceTransaction
from homeserver.services import workers
from helpers.api import V3, ok
from helpers.rooms import create_room, send_ok

GHOST = f"@_bridge_ghost:{SERVER}"


def register_ghost(client, localpart="_bridge_ghost"):
    ok(client.post(f"{V3}/register", headers=as_headers(),
                   json={"type": "m.login.application_service", "username": localpart,
                         "inhibit_login": True}))
    return f"@{localpart}:{SERVER}"


def invite_ghost(user, room_id, ghost=GHOST):
    ok(user.post(f"{V3}/rooms/{room_id}/invite", json={"user_id": ghost}))


def ghost_joins(client, room_id, ghost=GHOST):
    ok(client.post(f"{V3}/join/{room_id}?user_id={ghost}", headers=as_headers(), json={}))


def room_with_ghost(client):
    """alice's public room, the ghost (registered by the service) joined: (alice, room_id)."""
    register_ghost(client)
    alice = register_user_on(client, "alice")
    room_id = create_room(alice, preset="public_chat")
    invite_ghost(alice, room_id)
    ghost_joins(client, room_id)
    return alice, room_id


def ghost_join_delivered(service) -> bool:
    return any(e["type"] == "m.room.member" and e.get("state_key") == GHOST
               and e["content"].get("membership") == "join" for e in service.events())


def test_message_in_a_room_with_a_ghost_is_pushed(service_app, fake_service):  # noqa: F811
    client = service_app().test_client()
    alice, room_id = room_with_ghost(client)
    event_id = send_ok(alice, room_id, "hello ghost")
    assert fake_service.wait_for(lambda s: event_id in [e["event_id"] for e in s.events()])
    first = fake_service.transactions[0]
    assert first["auth"] == f"Bearer {HS_TOKEN}"
    assert first["path"].startswith("/_matrix/app/v1/transactions/")
    message = next(e for e in fake_service.events() if e["event_id"] == event_id)
    assert message["room_id"] == room_id and message["sender"] == alice.user_id
    assert message["content"]["body"] == "hello ghost"
    # The invite of the ghost (its membership) went out before it joined.
    types = [(e["type"], e.get("state_key")) for e in fake_service.events()]
    assert ("m.room.member", GHOST) in types


def test_rooms_without_namespace_users_are_not_pushed(service_app, fake_service):  # noqa: F811
    client = service_app().test_client()
    register_ghost(client)
    alice, bob = register_user_on(client, "alice"), register_user_on(client, "bob")
    private = create_room(alice)
    send_ok(alice, private, "not for the bridge")
    shared = create_room(bob, preset="public_chat")
    invite_ghost(bob, shared)
    ghost_joins(client, shared)
    marker = send_ok(bob, shared, "marker")
    assert fake_service.wait_for(lambda s: marker in [e["event_id"] for e in s.events()])
    assert all(e["room_id"] != private for e in fake_service.events())


def test_failures_are_retried_in_order_with_the_same_txn_id(service_app,
                                                            fake_service):  # noqa: F811
    client = service_app().test_client()
    alice, room_id = room_with_ghost(client)
    assert fake_service.wait_for(ghost_join_delivered)  # nothing else is on its way
    first_failure = len(fake_service.attempts)
    fake_service.statuses = [500, 502]
    sent = [send_ok(alice, room_id, f"message {n}") for n in range(5)]
    assert fake_service.wait_for(lambda s: set(sent) <= {e["event_id"] for e in s.events()})
    delivered = [e["event_id"] for e in fake_service.events()]
    assert [e for e in delivered if e in sent] == sent  # in order, each once
    assert len(delivered) == len(set(delivered))
    # The failed txnId was sent again, not replaced by a new one.
    failed = fake_service.attempts[first_failure]
    assert fake_service.attempts[first_failure:first_failure + 3] == [failed] * 3
    ids = [int(t["txn_id"]) for t in fake_service.transactions]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_queued_transactions_survive_a_restart(service_app, fake_service):  # noqa: F811
    app = service_app()
    client = app.test_client()
    alice, room_id = room_with_ghost(client)
    assert fake_service.wait_for(ghost_join_delivered)
    attempts_so_far = len(fake_service.attempts)
    fake_service.statuses = [503] * 1000
    event_id = send_ok(alice, room_id, "while the bridge is down")
    assert fake_service.wait_for(lambda s: len(s.attempts) > attempts_so_far)  # it failed
    workers.stop_all()  # the process ends; what was built is in the database
    with app.app_context():
        stored = list(AppServiceTransaction.select())
    assert len(stored) == 1
    failed_txn = str(stored[0].txn_id)
    assert fake_service.attempts[-1] == failed_txn
    attempts_before = len(fake_service.attempts)
    fake_service.statuses = []
    restarted = service_app().test_client()
    restarted.get("/_matrix/client/versions")  # a new process's first request starts senders
    assert fake_service.wait_for(lambda s: event_id in [e["event_id"] for e in s.events()])
    # The new process sent the stored transaction again under its txnId, then went on.
    assert fake_service.attempts[attempts_before] == failed_txn
    delivered = [e["event_id"] for e in fake_service.events()]
    assert delivered.count(event_id) == 1


def test_no_url_means_no_transactions(make_app, tmp_path):
    path = write_registration(tmp_path, registration(None))
    client = make_app(app_service_config_files=[path]).test_client()
    register_ghost(client)
    alice = register_user_on(client, "alice")
    room_id = create_room(alice, preset="public_chat")
    invite_ghost(alice, room_id)
    with client.application.app_context():
        assert not AppServiceTransaction.select().exists()
