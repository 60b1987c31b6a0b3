"""Attack: unauthenticated GET /publicRooms read the state of every published room on the
server for each request, whatever page was asked for.

Rooms are now paged in SQL (by joined members, then room ID, on columns the event writer
keeps) and only the page's rooms have their state read; a filtered POST looks at a bounded
number of rooms per page and goes on through next_batch.
"""

from homeserver import db
from homeserver.migrations import m0150_room_directory_columns
from homeserver.models.rooms import Room
from homeserver.services.rooms import directory
from sync_support import V3, create_room, join, ok


def _directory(register_user, count):
    """``count`` published rooms; room n has n + 1 joined members. Listing order: most first."""
    owners = [register_user(f"owner{n}") for n in range(count)]
    rooms = []
    for n, owner in enumerate(owners):
        room_id = create_room(owner, preset="public_chat", visibility="public",
                              name=f"room {n}")
        for other in owners[:n]:
            join(other, room_id)
        rooms.append(room_id)
    return list(reversed(rooms))


def _summaries_sizes(monkeypatch):
    sizes = []
    original = directory.summaries

    def recording(room_ids):
        sizes.append(len(room_ids))
        return original(room_ids)

    monkeypatch.setattr(directory, "summaries", recording)
    return sizes


def test_pages_read_only_their_rooms(register_user, client, monkeypatch):
    expected = _directory(register_user, 5)
    # The columns the listing is ordered by follow the rooms' state.
    assert [(r.joined_members, r.join_rule) for r in Room.select().order_by(
        Room.joined_members.desc())] == [(n, "public") for n in (5, 4, 3, 2, 1)]
    sizes = _summaries_sizes(monkeypatch)
    listed, since, pages = [], None, 0
    while True:
        url = f"{V3}/publicRooms?limit=2" + (f"&since={since}" if since else "")
        body = ok(client.get(url))  # no access token
        assert body["total_room_count_estimate"] == 5
        listed += [chunk["room_id"] for chunk in body["chunk"]]
        pages += 1
        since = body.get("next_batch")
        if since is None:
            break
    assert listed == expected
    assert [c for c in sizes if c > 2] == [] and pages == 3
    members = [c["num_joined_members"] for c in ok(client.get(f"{V3}/publicRooms"))["chunk"]]
    assert members == [5, 4, 3, 2, 1]
    # Going back from the last page.
    last = ok(client.get(f"{V3}/publicRooms?limit=2&since=n4"))
    back = ok(client.get(f"{V3}/publicRooms?limit=2&since={last['prev_batch']}"))
    assert [c["room_id"] for c in back["chunk"]] == expected[2:4]


def test_filtered_search_looks_at_a_bounded_number_of_rooms(register_user, monkeypatch):
    expected = _directory(register_user, 5)
    searcher = register_user("searcher")
    monkeypatch.setattr(directory, "MAX_SCANNED", 2)
    monkeypatch.setattr(directory, "SCAN_BATCH", 1)
    sizes = _summaries_sizes(monkeypatch)
    found, since, pages = [], None, 0
    while True:
        body = ok(searcher.post(f"{V3}/publicRooms", json={
            "limit": 10, "filter": {"generic_search_term": "room 0"},
            **({"since": since} if since else {})}))
        found += [chunk["room_id"] for chunk in body["chunk"]]
        pages += 1
        since = body.get("next_batch")
        if since is None:
            break
    assert found == [expected[-1]]  # "room 0", the smallest, listed last
    assert pages == 3 and max(sizes) == 1 and sum(sizes) == 5


def test_migration_fills_the_room_columns(register_user, client):
    rooms = _directory(register_user, 3)
    Room.update(joined_members=0, join_rule=None, history_visibility=None).execute()
    with db.write_transaction():
        m0150_room_directory_columns.up(db.database.obj)
    counts = {r.room_id: (r.joined_members, r.join_rule, r.history_visibility)
              for r in Room.select()}
    assert [counts[r] for r in rooms] == [(3, "public", "shared"), (2, "public", "shared"),
                                          (1, "public", "shared")]
