"""Attack: a user-directory search made the server read and parse the join rules and history
visibility of every room on the server (and pass them back as a list), so many public rooms
made every search slow.

The rooms open to all are now columns of the room row kept by the event writer: a search is
one statement that never reads events, whatever the number of rooms, and its answers follow
changes of join rule and history visibility.
"""

from homeserver.models.rooms import Event
from helpers.sql_counter import sql_statements, touching
from helpers.rooms import create_room, invite, join, put_state_ok

PATH = "/_matrix/client/v3/user_directory/search"


def _found(user, term):
    response = user.post(PATH, json={"search_term": term})
    assert response.status_code == 200
    return sorted(r["user_id"] for r in response.get_json()["results"])


def _search_statements(monkeypatch, user, term):
    with sql_statements(monkeypatch) as seen:
        found = _found(user, term)
    return found, seen


def test_search_cost_does_not_follow_the_number_of_rooms(register_user, monkeypatch):
    seeker = register_user("seeker")
    public_member = register_user("target_pub")
    readable_member = register_user("target_wr")
    hidden = register_user("target_hidden")

    public = create_room(public_member, preset="public_chat")
    readable = create_room(readable_member)
    put_state_ok(readable_member, readable, "m.room.history_visibility",
                 {"history_visibility": "world_readable"})
    create_room(hidden)

    _search_statements(monkeypatch, seeker, "target")  # the token's first use records the device
    found, seen = _search_statements(monkeypatch, seeker, "target")
    assert found == sorted([public_member.user_id, readable_member.user_id])
    few = len(seen)
    assert touching(seen, Event._meta.table_name) == []

    crowd = [register_user(f"filler{n}") for n in range(4)]
    for n, user in enumerate(crowd):
        room_id = create_room(user, preset="public_chat")
        join(crowd[(n + 1) % len(crowd)], room_id)
    found, seen = _search_statements(monkeypatch, seeker, "target")
    assert found == sorted([public_member.user_id, readable_member.user_id])
    assert len(seen) == few
    assert touching(seen, Event._meta.table_name) == []

    # Closing the rooms hides their members from strangers.
    put_state_ok(public_member, public, "m.room.join_rules", {"join_rule": "invite"})
    put_state_ok(readable_member, readable, "m.room.history_visibility",
                 {"history_visibility": "shared"})
    assert _found(seeker, "target") == []
    # ...but not from those who share a room with them.
    shared = create_room(hidden)
    invite(hidden, shared, seeker)
    join(seeker, shared)
    assert _found(seeker, "target") == [hidden.user_id]
