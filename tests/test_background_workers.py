"""The per-process background workers (services/background.py) stop with their app and start
again for the next one in the same process."""

import logging
import threading

from homeserver.services import background
from homeserver.services import workers
from homeserver.services.accounts import deactivation
from homeserver.services.ephemeral import expiry as ephemeral_expiry
from homeserver.services.push import sender as push_sender
from homeserver.services.streams import notifier

NAMES = {"stream-listener", "ephemeral-expiry", "pending-leaves", "push-sender"}


def _alive_workers():
    return {t.name for t in threading.enumerate()
            if t.name in NAMES or t.name.startswith("push-delivery")}


def _start_everything(app):
    config = app.config["HOMESERVER"]
    with app.app_context():
        ephemeral_expiry.ensure_running()
        deactivation.ensure_sweep()
        push_sender.ensure_running(config.push)
        notifier.wait_for_position_above(10 ** 9, 0.0)  # starts the listener


def test_stop_all_ends_every_worker_and_they_restart(make_app):
    app = make_app()
    _start_everything(app)
    assert NAMES <= _alive_workers()

    assert workers.stop_all() == []
    assert _alive_workers() == set()
    assert background.running() == []

    _start_everything(make_app())  # the next app in this process
    assert NAMES <= _alive_workers()
    assert workers.stop_all() == []
    assert _alive_workers() == set()


def test_a_waiting_long_poll_returns_when_workers_stop(app):
    with app.app_context():
        notifier.wait_for_position_above(10 ** 9, 0.0)
    result = []
    waiter = threading.Thread(
        target=lambda: result.append(notifier.wait_for_position_above(10 ** 9, 600)))
    with app.app_context():
        waiter.start()
        # Stop once the wait is registered (it returns True at once on a stopped listener).
        while not any(listener._waiters for listener in notifier._listeners.values()):
            threading.Event().wait(0.001)
    assert workers.stop_all() == []
    waiter.join(10)
    assert not waiter.is_alive() and result == [True]


def test_a_new_apps_first_request_starts_the_workers_with_work(make_app, register_user):
    alice = register_user()
    response = alice.post("/_matrix/client/v3/pushers/set", json={
        "kind": "http", "app_id": "org.example.app", "pushkey": "key-1",
        "app_display_name": "Example", "device_display_name": "Phone", "lang": "en",
        "data": {"url": "https://push.example.org/_matrix/push/v1/notify"}})
    assert response.status_code == 200
    assert "push-sender" in _alive_workers()  # started by the write
    assert workers.stop_all() == []

    # As after a restart: a pusher in the database, no sender yet; the first request starts it.
    fresh = make_app()
    assert "push-sender" not in _alive_workers()
    assert fresh.test_client().get("/_matrix/client/versions").status_code == 200
    assert "push-sender" in _alive_workers()


def test_a_loops_failures_are_logged_once_per_kind(caplog):
    log = logging.getLogger("test.background")
    failures = background.FailureLog(log, "the sweep")
    stop = threading.Event()
    with caplog.at_level(logging.DEBUG, logger="test.background"):
        for _ in range(50):
            failures.failed(OSError("database is gone"), stop)
        failures.failed(ValueError("something else"), stop)
        failures.succeeded()
        failures.failed(OSError("database is gone"), stop)  # after recovery: logged again
        stop.set()
        failures.failed(OSError("during shutdown"), stop)  # stopping: not logged
    with_traceback = [r for r in caplog.records if r.exc_info]
    assert [str(r.exc_info[1]) for r in with_traceback] == [
        "database is gone", "something else", "database is gone"]
    assert any("works again after 51 failures" in r.getMessage() for r in caplog.records)
    assert not any("during shutdown" in r.getMessage() or (r.exc_info and "shutdown" in
                   str(r.exc_info[1])) for r in caplog.records)
