"""The retention job (services/retention.py): old notifications, expired UIA sessions, media
reservations, URL previews and transaction IDs go, in bounded batches, while fresh ones stay."""

import threading

import pytest

from homeserver.models.media import Media, UrlPreview
from homeserver.models.push import NotifyingEvent, PushAction
from homeserver.models.rooms import EventTransaction
from homeserver.models.users import UiaSession
from homeserver.services import retention
from helpers.api import V3, ok
from helpers.rooms import create_room, join, send_ok

DAY_MS = 24 * 3600 * 1000
PASS_TIMEOUT_S = 30.0


@pytest.fixture
def app(make_app, request):
    # Passes every 20 ms, two rows per batch: a pass deletes everything due in several batches.
    if "disabled" in request.node.name:
        return make_app(retention={"enabled": False})
    return make_app(retention={"interval_s": 0.02, "batch_size": 2,
                               "notifications_max_age_ms": 30 * DAY_MS})


def next_pass():
    """Wait for a pass that started after now (the one running may have missed new rows)."""
    seen = retention.passes()
    assert retention.wait_for_pass(seen + 1, PASS_TIMEOUT_S)
    assert retention.wait_for_pass(seen + 2, PASS_TIMEOUT_S)


def count(app, model):
    with app.app_context():
        return model.select().count()


def test_old_notifications_go_fresh_ones_stay(app, clock, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    join(bob, room_id)
    old = [send_ok(alice, room_id, f"old {n}", **{"m.mentions": {"user_ids": [bob.user_id]}})
           for n in range(5)]
    assert len(ok(bob.get(f"{V3}/notifications"))["notifications"]) == 5
    clock.advance(31 * DAY_MS)
    fresh = send_ok(alice, room_id, "fresh", **{"m.mentions": {"user_ids": [bob.user_id]}})
    next_pass()
    listed = ok(bob.get(f"{V3}/notifications"))["notifications"]
    assert [n["event"]["event_id"] for n in listed] == [fresh]
    assert not set(old) & {n["event"]["event_id"] for n in listed}
    counts = ok(bob.get(f"{V3}/sync"))["rooms"]["join"][room_id]["unread_notifications"]
    assert counts == {"notification_count": 1, "highlight_count": 1}
    # Only the fresh event's rows are left.
    assert count(app, NotifyingEvent) + count(app, PushAction) <= 2


def test_expired_sessions_reservations_previews_and_txn_ids_go(app, clock,
                                                              register_user):
    alice = register_user("alice")
    room_id = create_room(alice)
    for n in range(3):
        ok(alice.put(f"{V3}/rooms/{room_id}/send/m.room.message/txn{n}",
                     json={"msgtype": "m.text", "body": "x"}))
        assert alice.post(f"{V3}/account/password",
                          json={"new_password": "whatever 123"}).status_code == 401
        ok(alice.post("/_matrix/media/v1/create", json={}))
    with app.app_context():
        UrlPreview.insert_many([{"url_hash": f"h{n}", "url": f"https://x/{n}", "og": "{}",
                                 "fetched_ts": clock.now, "expires_ts": clock.now + 1000}
                                for n in range(3)]).execute()
    before = {model: count(app, model)
              for model in (EventTransaction, UiaSession, Media, UrlPreview)}
    assert all(before[model] >= 3 for model in before), before
    next_pass()
    assert {model: count(app, model) for model in before} == before  # nothing due yet

    clock.advance(2 * DAY_MS)
    next_pass()
    assert {model: count(app, model) for model in before} == {
        EventTransaction: 0, UiaSession: 0, Media: 0, UrlPreview: 0}


def test_disabled_job_never_starts(register_user):
    register_user("alice")
    assert not [t for t in threading.enumerate() if t.name == "retention"]
