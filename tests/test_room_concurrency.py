"""Concurrent writers, on SQLite and PostgreSQL: many threads send to one room and to many rooms
at once while memberships and power levels race. No event may be lost, no stream position
repeated, no request may fail with a 5xx, and each room's history must stay a single line whose
current state is the state its last events set."""

import json
import threading

from homeserver.models.rooms import Event
from homeserver.services.rooms import state as room_state
from rooms_support import V3, create_room, join, ok, q

THREADS = 6
MESSAGES = 15


class Worker(threading.Thread):
    """Runs ``actions(client)`` with its own Flask test client; collects failures."""

    def __init__(self, app, actions):
        super().__init__()
        self.app, self.actions = app, actions
        self.responses = []
        self.exception = None

    def run(self):
        client = self.app.test_client()
        try:
            self.actions(client, self.responses)
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            self.exception = exc


def _auth(user):
    return {"Authorization": f"Bearer {user.access_token}"}


def _sender(user, room_id, label):
    def actions(client, responses):
        for n in range(MESSAGES):
            responses.append(client.put(
                f"{V3}/rooms/{q(room_id)}/send/m.room.message/{label}-{n}",
                json={"msgtype": "m.text", "body": f"{label} {n}"}, headers=_auth(user)))
    return actions


def _run(workers):
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for worker in workers:
        assert worker.exception is None, worker.exception
        for response in worker.responses:
            assert response.status_code == 200, (response.status_code, response.get_json())


def _check_line(app, room_id):
    """The room's events form one chain, and its current state is the state at its end."""
    with app.app_context():
        rows = list(Event.select().where(Event.room == room_id).order_by(Event.stream_ordering))
        for previous, row in zip(rows, rows[1:]):
            assert row.depth == previous.depth + 1
            assert json.loads(row.json)["prev_events"] in ([previous.event_id],
                                                           [[previous.event_id, json.loads(
                                                               previous.json)["hashes"]]])
        latest = rows[-1].stream_ordering
        current = {k: r.event_id for k, r in room_state.current_state(room_id).items()}
        replayed = {k: r.event_id for k, r in room_state.state_at(room_id, latest).items()}
        assert current == replayed
        return rows


def test_many_senders_one_room_and_many_rooms(app, register_user):
    owner = register_user("owner")
    shared = create_room(owner, preset="public_chat")
    users = [register_user(f"sender{i}") for i in range(THREADS)]
    own_rooms = []
    for user in users:
        join(user, shared)
        own_rooms.append(create_room(user))
    workers = [Worker(app, _sender(user, shared, f"shared{i}")) for i, user in enumerate(users)]
    workers += [Worker(app, _sender(user, room, f"own{i}"))
                for i, (user, room) in enumerate(zip(users, own_rooms))]
    _run(workers)

    sent = [r.get_json()["event_id"] for w in workers for r in w.responses]
    assert len(set(sent)) == len(sent) == 2 * THREADS * MESSAGES
    with app.app_context():
        rows = list(Event.select(Event.event_id, Event.stream_ordering)
                    .where(Event.event_id.in_(sent)))
    assert len(rows) == len(sent)  # none lost
    assert len({r.stream_ordering for r in rows}) == len(rows)  # no position handed out twice

    # Every message is readable in order through the API, each thread's in its send order.
    history = ok(owner.get(f"{V3}/rooms/{q(shared)}/messages?dir=f&limit=1000"))["chunk"]
    bodies = [e["content"]["body"] for e in history if e["type"] == "m.room.message"]
    assert len(bodies) == THREADS * MESSAGES
    for i in range(THREADS):
        mine = [b for b in bodies if b.startswith(f"shared{i} ")]
        assert mine == [f"shared{i} {n}" for n in range(MESSAGES)]
    _check_line(app, shared)
    for room in own_rooms:
        rows = _check_line(app, room)
        assert sum(1 for r in rows if r.type == "m.room.message") == MESSAGES


def test_memberships_race_with_power_level_changes(app, register_user):
    owner = register_user("owner")
    room_id = create_room(owner, preset="public_chat", room_version="11")
    joiners = [register_user(f"joiner{i}") for i in range(3)]
    levels_path = f"{V3}/rooms/{q(room_id)}/state/m.room.power_levels/"
    base_levels = ok(owner.get(levels_path))

    def change_levels(client, responses):
        for n in range(10):
            content = dict(base_levels, users_default=n % 3,
                           users={**base_levels["users"], joiners[0].user_id: n})
            responses.append(client.put(levels_path, json=content, headers=_auth(owner)))

    def join_and_leave(user, rounds, end_joined):
        def actions(client, responses):
            for n in range(rounds):
                responses.append(client.post(f"{V3}/join/{q(room_id)}", json={},
                                             headers=_auth(user)))
                if n < rounds - 1 or not end_joined:
                    responses.append(client.post(f"{V3}/rooms/{q(room_id)}/leave", json={},
                                                 headers=_auth(user)))
        return actions

    def chatter(client, responses):
        for n in range(10):
            responses.append(client.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/c{n}",
                                        json={"body": str(n), "msgtype": "m.text"},
                                        headers=_auth(owner)))

    workers = [Worker(app, change_levels), Worker(app, chatter),
               Worker(app, join_and_leave(joiners[0], 5, True)),
               Worker(app, join_and_leave(joiners[1], 5, False)),
               Worker(app, join_and_leave(joiners[2], 4, True))]
    _run(workers)

    members = ok(owner.get(f"{V3}/rooms/{q(room_id)}/members"))["chunk"]
    final = {m["state_key"]: m["content"]["membership"] for m in members}
    assert final == {owner.user_id: "join", joiners[0].user_id: "join",
                     joiners[1].user_id: "leave", joiners[2].user_id: "join"}
    joined = ok(owner.get(f"{V3}/rooms/{q(room_id)}/joined_members"))["joined"]
    assert set(joined) == {owner.user_id, joiners[0].user_id, joiners[2].user_id}
    levels = ok(owner.get(levels_path))
    assert levels["users"][joiners[0].user_id] == 9 and levels["users_default"] == 0
    _check_line(app, room_id)


def test_concurrent_retries_of_one_txn_make_one_event(app, register_user):
    owner = register_user("owner")
    room_id = create_room(owner)

    def retry(client, responses):
        for _ in range(5):
            responses.append(client.put(f"{V3}/rooms/{q(room_id)}/send/m.room.message/once",
                                        json={"body": "once", "msgtype": "m.text"},
                                        headers=_auth(owner)))

    workers = [Worker(app, retry) for _ in range(4)]
    _run(workers)
    ids = {r.get_json()["event_id"] for w in workers for r in w.responses}
    assert len(ids) == 1
    history = ok(owner.get(f"{V3}/rooms/{q(room_id)}/messages?dir=b&limit=100"))["chunk"]
    assert [e["event_id"] for e in history if e["type"] == "m.room.message"] == list(ids)


def test_identical_rooms_created_in_the_same_millisecond(app, register_user, clock):
    """v12 room IDs are the create event's hash: the same creator creating the same room at
    the same instant (a frozen clock here) must still get distinct rooms, sequentially and
    concurrently."""
    owner = register_user("owner")
    first = create_room(owner, name="Same")
    second = create_room(owner, name="Same")
    assert first != second

    def creator(client, responses):
        for _ in range(3):
            responses.append(client.post(f"{V3}/createRoom", json={"name": "Same"},
                                         headers=_auth(owner)))

    workers = [Worker(app, creator) for _ in range(4)]
    _run(workers)
    created = {r.get_json()["room_id"] for w in workers for r in w.responses}
    assert len(created) == 12 and first not in created and second not in created
    joined = ok(owner.get(f"{V3}/joined_rooms"))["joined_rooms"]
    assert len(joined) == 14


def test_concurrent_claims_of_one_alias(app, register_user):
    owner = register_user("owner")
    rooms = [create_room(owner) for _ in range(4)]
    alias = "#contested:localhost:8008"

    def claim(room_id):
        def actions(client, responses):
            responses.append(client.put(f"{V3}/directory/room/{q(alias)}",
                                        json={"room_id": room_id}, headers=_auth(owner)))
        return actions

    def claim_by_creation(client, responses):
        responses.append(client.post(f"{V3}/createRoom", json={"room_alias_name": "contested"},
                                     headers=_auth(owner)))

    workers = [Worker(app, claim(room)) for room in rooms]
    workers += [Worker(app, claim_by_creation) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses = sorted(r.status_code for w in workers for r in w.responses)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 400, 409}  # M_ROOM_IN_USE: 409 for PUT, 400 for createRoom
    for worker in workers:
        for response in worker.responses:
            if response.status_code != 200:
                assert response.get_json()["errcode"] == "M_ROOM_IN_USE"
    winner = ok(owner.get(f"{V3}/directory/room/{q(alias)}"))["room_id"]
    assert len(ok(owner.get(f"{V3}/joined_rooms"))["joined_rooms"]) == 4 + (
        winner not in rooms)  # a losing createRoom left no room behind
