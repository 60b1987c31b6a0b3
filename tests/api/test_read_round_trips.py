"""Round trips of the hot reads (each one costs a network round trip on PostgreSQL): an
initial /sync reads its rooms' timelines together, so its statements do not grow with the
number of rooms; a /messages page is one read of the timeline when every event is visible.
The answers stay whole: every room with its newest events, the page complete and ordered."""

from urllib.parse import quote

from helpers.api import V3, ok
from helpers.rooms import create_room, join, redact, send_ok
from helpers.sql_counter import sql_statements
from helpers.sync import sync, timeline_ids


def _rooms_with_history(alice, reader, count):
    rooms = {}
    for n in range(count):
        room_id = create_room(alice, preset="public_chat")
        join(reader, room_id)
        rooms[room_id] = [send_ok(alice, room_id, f"room {n} message {i}") for i in range(3)]
    sync(reader)  # a user's very first sync also records their presence
    return rooms


def _event_reads(statements):
    """The statements reading the event table (the server's background threads may run
    others meanwhile)."""
    return [s for s in statements if "FROM event " in s or 'FROM "event"' in s]


def _initial_sync(bob, monkeypatch):
    with sql_statements(monkeypatch) as seen:
        response = sync(bob)
    return response, len(_event_reads(seen))


def test_initial_sync_statements_do_not_grow_with_rooms(register_user, monkeypatch):
    alice, bob, carol = (register_user(name) for name in ("alice", "bob", "carol"))
    bobs = _rooms_with_history(alice, bob, 3)
    carols = _rooms_with_history(alice, carol, 9)
    few_response, few = _initial_sync(bob, monkeypatch)
    many_response, many = _initial_sync(carol, monkeypatch)
    assert many <= few
    for response, rooms in ((few_response, bobs), (many_response, carols)):
        assert set(response["rooms"]["join"]) == set(rooms)
        for room_id, sent in rooms.items():
            assert timeline_ids(response, room_id)[-3:] == sent


def test_a_page_of_100_visible_events_is_one_timeline_read(register_user, monkeypatch):
    alice = register_user("alice")
    room_id = create_room(alice, preset="public_chat")
    sent = [send_ok(alice, room_id, f"message {i}") for i in range(150)]
    path = f"{V3}/rooms/{quote(room_id)}/messages?dir=b&limit=100"
    with sql_statements(monkeypatch) as seen:
        page = ok(alice.get(path))
    reads = [s for s in _event_reads(seen) if "ORDER BY" in s and "LIMIT" in s]
    assert len(reads) == 1, reads
    assert [e["event_id"] for e in page["chunk"]] == list(reversed(sent))[:100]
    rest = ok(alice.get(f"{path}&from={quote(page['end'])}"))
    got = [e["event_id"] for e in rest["chunk"] if e["type"] == "m.room.message"]
    assert got == list(reversed(sent))[100:]


def _edit(user, room_id, original, body):
    return send_ok(user, room_id, f"* {body}", **{
        "m.new_content": {"msgtype": "m.text", "body": body},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original}})


def _page_statements(user, room_id, limit, monkeypatch):
    path = f"{V3}/rooms/{quote(room_id)}/messages?dir=b&limit={limit}"
    with sql_statements(monkeypatch) as seen:
        page = ok(user.get(path))
    return page, len(seen)


def test_messages_page_statements_do_not_grow_with_the_page(register_user, monkeypatch):
    """Erased senders, redactions and bundled relations are read for the whole page at
    once: a page of 100 runs as many statements as a page of 10, and both stay whole."""
    alice = register_user("alice")
    pages = {}
    for size in (10, 100):
        room_id = create_room(alice, preset="public_chat")
        sent = [send_ok(alice, room_id, f"message {i}") for i in range(size + 5)]
        edited, redacted = sent[-2], sent[-3]
        edit = _edit(alice, room_id, edited, "edited")
        ok(redact(alice, room_id, redacted, reason="oops"))
        page, count = _page_statements(alice, room_id, size, monkeypatch)
        pages[size] = (page, count, edited, edit, redacted)
    assert pages[100][1] == pages[10][1], (pages[10][1], pages[100][1])
    for size, (page, _, edited, edit, redacted) in pages.items():
        events = {e["event_id"]: e for e in page["chunk"]}
        assert len(page["chunk"]) == size
        assert events[edited]["unsigned"]["m.relations"]["m.replace"]["event_id"] == edit
        assert events[redacted]["content"] == {}
        assert events[redacted]["unsigned"]["redacted_because"]["content"]["reason"] == "oops"


def test_initial_sync_all_statements_do_not_grow_with_rooms(register_user, monkeypatch):
    """Every statement of an initial sync, not only the timeline reads: 9 rooms with edits
    and redactions cost what 3 rooms cost."""
    alice, bob, carol = (register_user(name) for name in ("alice", "bob", "carol"))
    counts, responses = {}, {}
    for reader, rooms in ((bob, 3), (carol, 9)):
        sent = _rooms_with_history(alice, reader, rooms)
        for room_id, events in sent.items():
            _edit(alice, room_id, events[-1], "edited")
            ok(redact(alice, room_id, events[0]))
        sync(reader)
        with sql_statements(monkeypatch) as seen:
            responses[reader.user_id] = sync(reader)
        counts[rooms] = len(seen)
        for room_id, events in sent.items():
            timeline = {e["event_id"]: e
                        for e in responses[reader.user_id]["rooms"]["join"][room_id]
                        ["timeline"]["events"]}
            assert timeline[events[-1]]["unsigned"]["m.relations"]["m.replace"]["sender"] \
                == alice.user_id
            assert timeline[events[0]]["content"] == {}
    # (<=: a statement done at most once a minute, like the device's last-seen update, may
    # fall into either count.)
    assert counts[9] <= counts[3], counts
