"""Reporting content (spec module "Reporting Content"): events (reporter joined, event visible),
rooms and users (no membership required); reports are stored for administrators."""

import json

import pytest
from click.testing import CliRunner

from homeserver.cli import main
from homeserver.services.accounts import reports as reports_service
from rooms_support import V3, create_room, error, invite, join, leave, ok, put_state_ok, q, send_ok


@pytest.fixture
def alice(register_user):
    return register_user("alice")


@pytest.fixture
def bob(register_user):
    return register_user("bob")


def report_event(user, room, event_id, **body):
    return user.post(f"{V3}/rooms/{q(room)}/report/{q(event_id)}", json=body)


def report_room(user, room, **body):
    return user.post(f"{V3}/rooms/{q(room)}/report", json=body)


def report_user(user, target, **body):
    return user.post(f"{V3}/users/{q(target)}/report", json=body)


def stored(app):
    with app.app_context():
        return reports_service.list_reports()


def test_event_report_is_stored(app, alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(alice, room, "something nasty")
    assert ok(report_event(bob, room, event_id, reason="this makes me sad", score=-100)) == {}
    assert ok(report_event(bob, room, event_id)) == {}
    newest, first = stored(app)
    assert first["kind"] == "event" and first["reporter"] == bob.user_id
    assert first["room_id"] == room and first["event_id"] == event_id
    assert first["target_user_id"] == alice.user_id
    assert first["reason"] == "this makes me sad"
    assert newest["reason"] is None


def test_event_report_needs_a_joined_reporter_and_a_visible_event(app, alice, bob):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    hidden = send_ok(alice, room, "before bob")
    # not joined: the same 404 whether the event exists or not.
    error(report_event(bob, room, hidden, reason="x"), 404, "M_NOT_FOUND")
    error(report_event(bob, room, "$nothing", reason="x"), 404, "M_NOT_FOUND")
    join(bob, room)
    error(report_event(bob, room, hidden, reason="x"), 404, "M_NOT_FOUND")
    seen = send_ok(alice, room, "while bob is here")
    ok(report_event(bob, room, seen, reason="x"))
    other = create_room(alice, preset="public_chat")
    join(bob, other)
    error(report_event(bob, other, seen, reason="wrong room"), 404, "M_NOT_FOUND")
    leave(bob, room)
    error(report_event(bob, room, seen, reason="left"), 404, "M_NOT_FOUND")
    assert len(stored(app)) == 1


def test_room_report_needs_no_membership(app, alice, bob):
    room = create_room(alice, preset="private_chat")
    assert ok(report_room(bob, room, reason="")) == {}
    invite(alice, room, bob)
    ok(report_room(bob, room, reason="spam invites"))
    error(report_room(bob, "!unknown:localhost:8008", reason="x"), 404, "M_NOT_FOUND")
    error(report_room(bob, room), 400, "M_MISSING_PARAM")
    error(report_room(bob, room, reason=5), 400, "M_BAD_JSON")
    kinds = [(r["kind"], r["room_id"], r["reason"]) for r in stored(app)]
    assert kinds == [("room", room, "spam invites"), ("room", room, "")]


def test_user_report(app, alice, bob):
    assert ok(report_user(bob, alice.user_id, reason="rude")) == {}
    [entry] = stored(app)
    assert (entry["kind"], entry["target_user_id"], entry["reporter"]) == \
        ("user", alice.user_id, bob.user_id)
    assert "room_id" not in entry
    error(report_user(bob, "@nobody:localhost:8008", reason="x"), 404, "M_NOT_FOUND")
    error(report_user(bob, "not-a-user", reason="x"), 400, "M_INVALID_PARAM")
    error(report_user(bob, alice.user_id), 400, "M_MISSING_PARAM")


def test_reports_need_auth_and_json(alice):
    room = create_room(alice)
    assert alice.client.post(f"{V3}/rooms/{q(room)}/report", json={"reason": "x"}
                             ).status_code == 401
    error(alice.post(f"{V3}/rooms/{q(room)}/report", data="nope"), 400, "M_NOT_JSON")
    error(alice.post(f"{V3}/users/{q(alice.user_id)}/report", json=[]), 400, "M_BAD_JSON")


def test_reports_are_rate_limited(make_app, register_user):
    app = make_app(rate_limits={"enabled": True,
                                "messages_per_user": {"per_second": 0.001, "burst": 2}})
    client = app.test_client()
    response = client.post(f"{V3}/register", json={"username": "carol", "password": "pw pw pw",
                                                   "auth": {"type": "m.login.dummy"}})
    token = ok(response)["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    carol = ok(response)["user_id"]
    codes = [client.post(f"{V3}/users/{q(carol)}/report", json={"reason": "x"},
                         headers=headers).status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[-1] == 429


def test_administrators_list_reports_with_the_cli(alice, bob, database_url, tmp_path):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    event_id = send_ok(alice, room, "spam")
    ok(report_event(bob, room, event_id, reason="spam"))
    ok(report_user(bob, alice.user_id, reason="spammer"))
    config = tmp_path / "homeserver.yaml"
    config.write_text(f"server_name: localhost:8008\ndatabase: {database_url}\n"
                      f"data_dir: {tmp_path / 'data'}\n")

    def run(*args):
        result = CliRunner().invoke(main, ["reports", "list", *args],
                                    env={"HOMESERVER_CONFIG": str(config)})
        assert result.exit_code == 0, result.output
        return result.output

    lines = run().splitlines()
    assert len(lines) == 2
    assert f"user  {bob.user_id} -> {alice.user_id}: spammer" in lines[0]
    assert f"event {bob.user_id} -> {room} {event_id} {alice.user_id}: spam" in lines[1]
    [entry] = [json.loads(line) for line in run("--json", "--kind", "event").splitlines()]
    assert (entry["kind"], entry["event_id"], entry["reason"]) == ("event", event_id, "spam")
    assert len(run("--limit", "1").splitlines()) == 1
