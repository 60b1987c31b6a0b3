"""Correctness under concurrency: writers post in many rooms at once while readers sync
incrementally in a loop (long-polling, small timeline limit so timelines are often limited and
gaps are filled through /messages from prev_batch to the previous since, as clients do).

Every reader must end up with every event of every room exactly once, in the room's order.
Runs on SQLite and PostgreSQL like every test.
"""

import threading

from helpers.api import ok
from helpers.rooms import create_room, join, put_state_ok, send_ok
from helpers.sync import messages, sync_path

WRITERS = 4
READERS = 3
ROOMS = 6
MESSAGES_PER_WRITER = 30
TIMELINE_LIMIT = 4
MAX_SYNCS = 2000  # a reader that needs more than this is stuck


def fill_gap(user, room_id, prev_batch, since):
    """The events between a limited timeline and the previous sync, oldest first."""
    events, token = [], prev_batch
    while True:
        page = ok(messages(user, room_id, dir="b", **{"from": token}, to=since, limit=7))
        events.extend(page["chunk"])
        if "end" not in page:
            return list(reversed(events))
        token = page["end"]


class Reader(threading.Thread):
    def __init__(self, app, user, rooms, expected_messages, lazy, late=False):
        super().__init__(daemon=True)
        # A late reader syncs only after the writers finish, like a phone coming back online:
        # its timelines are certainly limited, so gap filling is always exercised.
        self.late = late
        self.client = app.test_client()
        self.user = user
        self.rooms = rooms
        self.expected = expected_messages
        self.filter = {"room": {"timeline": {"limit": TIMELINE_LIMIT},
                                "state": {"lazy_load_members": lazy}}}
        self.seen: dict[str, list[str]] = {room: [] for room in rooms}
        self.syncs = 0
        self.limited = 0
        self.error = None
        self.writers_done = threading.Event()

    def get(self, path):
        response = self.client.get(path, headers=self.user.headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def message_count(self):
        return sum(1 for ids in self.seen.values() for _ in ids)

    def prepare(self):
        """The initial sync, before any writer starts (so it holds no history to page)."""
        body = self.get(sync_path(filter=self.filter))
        self.record(body, since=None)
        self.since = body["next_batch"]

    def run(self):
        try:
            since = self.since
            if self.late:
                self.writers_done.wait()
            while self.message_count() < self.expected and self.syncs < MAX_SYNCS:
                # Once the writers are done, one more sync must bring everything left.
                final = self.writers_done.is_set()
                timeout = 0 if final else 1000
                body = self.get(sync_path(since=since, filter=self.filter, timeout=timeout))
                self.syncs += 1
                self.record(body, since)
                since = body["next_batch"]
                if final:
                    break
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def record(self, body, since):
        for room_id, entry in body["rooms"]["join"].items():
            timeline = entry["timeline"]
            events = timeline["events"]
            if timeline["limited"] and since is not None:
                self.limited += 1
                gap = fill_gap(_Handle(self.client, self.user), room_id,
                               timeline["prev_batch"], since)
                events = gap + events
            self.seen[room_id].extend(e["event_id"] for e in events
                                      if e["type"] == "m.room.message")


class _Handle:
    """The reader's own test client with the user's token (one client per thread)."""

    def __init__(self, client, user):
        self.client, self.user = client, user

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.user.headers, **kwargs)


class Writer(threading.Thread):
    def __init__(self, app, user, rooms, index):
        super().__init__(daemon=True)
        self.handle = _WriterHandle(app.test_client(), user)
        self.rooms = rooms
        self.index = index
        self.error = None

    def run(self):
        try:
            for i in range(MESSAGES_PER_WRITER):
                room = self.rooms[(i + self.index) % len(self.rooms)]
                send_ok(self.handle, room, f"writer {self.index} message {i}")
                if i % 10 == 5:
                    put_state_ok(self.handle, room, "m.room.topic",
                                 {"topic": f"topic by {self.index} at {i}"})
        except Exception as exc:  # noqa: BLE001
            self.error = exc


class _WriterHandle:
    def __init__(self, client, user):
        self.client, self.user = client, user

    def put(self, path, **kwargs):
        return self.client.put(path, headers=self.user.headers, **kwargs)


def room_history(user, room_id):
    """Ground truth: the room's messages in order, from /messages forwards."""
    ids, token = [], "t0"
    while True:
        page = ok(messages(user, room_id, dir="f", **{"from": token}, limit=100))
        ids.extend(e["event_id"] for e in page["chunk"] if e["type"] == "m.room.message")
        if "end" not in page:
            return ids
        token = page["end"]


def test_every_event_exactly_once_in_order(app, register_user):
    owner = register_user("owner")
    writers = [register_user(f"writer{i}") for i in range(WRITERS)]
    readers = [register_user(f"reader{i}") for i in range(READERS)]
    # Everyone may change the topic, so writers also produce state changes.
    rooms = [create_room(owner, preset="public_chat", name=f"room {i}",
                         power_level_content_override={"users_default": 50})
             for i in range(ROOMS)]
    for user in writers + readers:
        for room in rooms:
            join(user, room)

    expected = WRITERS * MESSAGES_PER_WRITER
    reader_threads = [Reader(app, user, rooms, expected, lazy=(i % 2 == 1),
                             late=(i == len(readers) - 1))
                      for i, user in enumerate(readers)]
    for thread in reader_threads:
        thread.prepare()
        thread.start()
    writer_threads = [Writer(app, user, rooms, i) for i, user in enumerate(writers)]
    for thread in writer_threads:
        thread.start()
    for thread in writer_threads:
        thread.join()
    for thread in reader_threads:
        thread.writers_done.set()
    for thread in reader_threads:
        thread.join()
    for thread in writer_threads + reader_threads:
        assert thread.error is None, repr(thread.error)

    truth = {room: room_history(owner, room) for room in rooms}
    assert sum(len(ids) for ids in truth.values()) == expected
    for reader in reader_threads:
        for room in rooms:
            assert reader.seen[room] == truth[room], (reader.user.user_id, room)
    # The point of the exercise: many incremental syncs happened, and limited ones (the late
    # reader's, at least) had their gaps filled.
    assert all(reader.syncs > 1 for reader in reader_threads if not reader.late)
    assert all(reader.limited for reader in reader_threads if reader.late)
