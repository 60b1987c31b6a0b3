"""services.streams.notifier: long-poll wake-ups from this process, from other processes, with
hints; a waiting request holds no database connection."""

import os
import subprocess
import sys
import threading

import pytest

from homeserver import db
from homeserver.services.streams import notifier, positions as streams
from helpers.waiting import wait_until

LONG = 60  # seconds: only ever reached if the code under test is broken


def take_position(**hints) -> int:
    with db.write_transaction():
        return streams.next_position(**hints)


class Waiter(threading.Thread):
    """Calls wait_for_position_above in its own thread (own connection, like a request)."""

    def __init__(self, above, timeout, **interest):
        super().__init__(daemon=True)
        self.above, self.timeout, self.interest = above, timeout, interest
        self.result = None
        self.registered = threading.Event()
        self.connection_open_while_waiting = None

    def run(self):
        database = db.database.obj
        database.connect(reuse_if_open=True)
        streams.current_position()  # hold a connection, as a request would
        original = notifier._Listener.wait

        def observed_wait(listener, *args):
            self.connection_open_while_waiting = not database.is_closed()
            self.registered.set()
            return original(listener, *args)

        notifier._Listener.wait = observed_wait
        try:
            self.result = notifier.wait_for_position_above(self.above, self.timeout,
                                                           **self.interest)
        finally:
            notifier._Listener.wait = original
            self.registered.set()
            if not database.is_closed():
                database.close()


@pytest.fixture
def start(app):
    with app.app_context():
        yield streams.current_position()


def test_write_in_this_process_wakes_waiter(start):
    waiter = Waiter(start, LONG)
    waiter.start()
    waiter.registered.wait(LONG)
    take_position()
    waiter.join(LONG)
    assert waiter.result is True


def test_waiter_holds_no_database_connection(start):
    waiter = Waiter(start, LONG)
    waiter.start()
    waiter.registered.wait(LONG)
    assert waiter.connection_open_while_waiting is False
    take_position()
    waiter.join(LONG)
    assert waiter.result is True


def test_timeout_without_writes(start):
    assert notifier.wait_for_position_above(start, 0.3) is False


def test_position_already_above_returns_at_once(start):
    take_position()
    assert notifier.wait_for_position_above(start, LONG) is True


def test_hints_wake_only_those_concerned(start):
    waiter = Waiter(start, 0.5, rooms={"!a:localhost"}, users={"@alice:localhost"})
    waiter.start()
    waiter.registered.wait(LONG)
    take_position(rooms=["!b:localhost"])
    take_position(users=["@bob:localhost"])
    waiter.join(LONG)
    assert waiter.result is False

    after = streams.current_position()
    for hints in ({"rooms": ["!b:localhost", "!a:localhost"]}, {"users": ["@alice:localhost"]},
                  {}):
        waiter = Waiter(after, LONG, rooms={"!a:localhost"}, users={"@alice:localhost"})
        waiter.start()
        waiter.registered.wait(LONG)
        after = take_position(**hints)
        waiter.join(LONG)
        assert waiter.result is True, hints


def test_hint_seen_before_waiting_still_counts(start):
    position = take_position(rooms=["!a:localhost"])
    # The listener may or may not have seen it yet: either way a waiter from `start` wakes.
    assert notifier.wait_for_position_above(start, LONG, rooms={"!a:localhost"}) is True
    assert notifier.wait_for_position_above(position, 0.3, rooms={"!a:localhost"}) is False


def test_recreated_database_does_not_wake_forever(start):
    take_position()
    take_position()
    assert notifier.wait_for_position_above(start, LONG) is True  # the listener knows them
    with db.write_transaction():
        db.database.obj.execute_sql("UPDATE stream_counter SET position = 0 WHERE id = 1")
    # The counter went backwards (a restored or recreated database). Once the listener has read
    # the counter (SQLite: its next poll; PostgreSQL: its safety poll, at most
    # POSTGRES_SAFETY_POLL_S later), waiting from 0 must wait instead of waking at once.
    assert wait_until(lambda: notifier.wait_for_position_above(0, 0.5) is False,
                      timeout_s=notifier.POSTGRES_SAFETY_POLL_S + LONG)
    waiter = Waiter(0, LONG)
    waiter.start()
    waiter.registered.wait(LONG)
    take_position()
    waiter.join(LONG)
    assert waiter.result is True


@pytest.fixture
def listening(start):
    """The listener runs from ``start`` on (it has no record of what came before it)."""
    notifier.start_listener()
    assert wait_until(lambda: notifier.heard() == start)
    return start


def _quiet(above, rooms=(), users=()):
    heard = notifier.heard()
    return notifier.quiet_position(heard, streams.current_position(), [(above, rooms, users)],
                                   wait_s=LONG)


def test_quiet_position_answers_from_the_hints(listening):
    start = listening
    take_position(rooms=["!b:localhost"])
    last = take_position(users=["@bob:localhost"])
    # It waits to hear of the counter it was given, then answers from its record.
    assert _quiet(start, rooms={"!a:localhost"}, users={"@alice:localhost"}) == last
    assert _quiet(start, rooms={"!b:localhost"}) is None
    assert _quiet(start, users={"@bob:localhost"}) is None
    assert _quiet(last, rooms={"!b:localhost"}, users={"@bob:localhost"}) == last
    everyone = take_position()
    assert _quiet(start, rooms={"!a:localhost"}) is None
    assert _quiet(everyone, rooms={"!a:localhost"}) == everyone


def test_quiet_position_takes_every_check(listening):
    start = listening
    take_position(users=["@bob:localhost"])
    middle = streams.current_position()
    # Heard apart: a listener reading both positions at once keeps one record naming bob for
    # the two, and can no longer tell that nothing after ``middle`` names him.
    assert wait_until(lambda: notifier.heard() == middle)
    last = take_position(rooms=["!a:localhost"])
    heard = notifier.heard()
    current = streams.current_position()
    assert notifier.quiet_position(heard, current, [(middle, (), {"@bob:localhost"}),
                                                    (start, {"!c:localhost"}, ())],
                                   wait_s=LONG) == last
    assert notifier.quiet_position(heard, current, [(start, (), {"@bob:localhost"}),
                                                    (middle, {"!c:localhost"}, ())],
                                   wait_s=LONG) is None


def test_quiet_position_after_the_counter_went_back(listening):
    start = listening
    take_position(rooms=["!b:localhost"])
    assert _quiet(start, rooms={"!a:localhost"}) is not None
    with db.write_transaction():
        db.database.obj.execute_sql("UPDATE stream_counter SET position = 0 WHERE id = 1")
    # What the listener heard is of another database now: it starts over, and knows nothing.
    assert notifier.quiet_position(notifier.heard(), 0, [(0, {"!a:localhost"}, ())]) is None
    epoch = notifier.epoch()
    assert wait_until(lambda: _quiet(0, rooms={"!a:localhost"}) == 0)
    assert notifier.epoch() >= epoch


def test_rooms_of_a_hint_are_read_under_the_counters_lock(listening):
    start = listening
    seen = []

    def rooms():
        seen.append(db.run_sql("SELECT position FROM stream_counter WHERE id = 1").fetchone()[0])
        return ["!late:localhost"]

    position = take_position(rooms=rooms)
    assert seen == [position]
    assert _quiet(start, rooms={"!late:localhost"}) is None


WRITER = """
import sys
from homeserver import db
from homeserver.services.streams import positions as streams
db.init_database(sys.argv[1], 1)
with db.write_transaction():
    streams.next_position(rooms=["!other:localhost"])
db.database.obj.close_all()
"""


def test_write_from_another_process_wakes_waiter(start, database_url):
    waiter = Waiter(start, LONG, rooms={"!other:localhost"})
    waiter.start()
    waiter.registered.wait(LONG)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    subprocess.run([sys.executable, "-c", WRITER, database_url], check=True, env=env,
                   timeout=LONG)
    waiter.join(LONG)
    assert waiter.result is True


def test_lost_nudge_still_wakes_waiter(start, monkeypatch):
    # SQLite: a listener reads the counter at once when a writer rings the doorbell, and
    # otherwise only now and then; a write whose nudge is lost still wakes its waiter.
    # (PostgreSQL: NOTIFY does the work, the doorbell is never rung.)
    monkeypatch.setattr(notifier.doorbell, "ring", lambda path: None)
    waiter = Waiter(start, LONG, rooms={"!a:localhost"})
    waiter.start()
    waiter.registered.wait(LONG)
    take_position(rooms=["!a:localhost"])
    waiter.join(LONG)
    assert waiter.result is True


def test_first_request_starts_the_listener(app, client):
    client.get("/_matrix/client/versions")
    assert wait_until(lambda: "stream-listener" in
                      [thread.name for thread in notifier.background.running()],
                      timeout_s=LONG)
