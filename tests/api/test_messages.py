"""GET /rooms/{roomId}/messages (spec: Getting events for a room): directions, from/to tokens,
limits, the end of history, filters, lazy-loaded members, history visibility, access."""

import json
from urllib.parse import quote

import pytest

from helpers.api import V3, ok
from helpers.rooms import create_room, join, leave, put_state_ok, send_ok
from helpers.sync import event_ids, joined, messages, sync


def all_events_backwards(user, room, **params):
    """Page back from the newest event to the start of the room; (ids, number of pages)."""
    ids, token, pages = [], None, 0
    while True:
        query = dict(dir="b", **params)
        if token is not None:
            query["from"] = token
        page = ok(messages(user, room, **query))
        pages += 1
        ids.extend(event_ids(page["chunk"]))
        if "end" not in page:
            return ids, pages
        assert page["end"] != token
        token = page["end"]


def test_paging_back_reaches_the_start_of_the_room(alice):
    room = create_room(alice)
    sent = [send_ok(alice, room, f"m{i}") for i in range(25)]
    ids, pages = all_events_backwards(alice, room, limit=7)
    assert ids[:25] == list(reversed(sent))
    chunk = ok(messages(alice, room, dir="b", limit=100))["chunk"]
    assert chunk[-1]["type"] == "m.room.create"
    assert ids == event_ids(chunk)
    assert len(ids) == len(set(ids))
    assert pages >= 4


def test_forward_from_sync_token_and_back(alice):
    room = create_room(alice)
    since = sync(alice)["next_batch"]
    sent = [send_ok(alice, room, f"m{i}") for i in range(5)]
    page = ok(messages(alice, room, dir="f", **{"from": since}, limit=3))
    assert event_ids(page["chunk"]) == sent[:3]
    assert page["start"] == since
    rest = ok(messages(alice, room, dir="f", **{"from": page["end"]}, limit=10))
    assert event_ids(rest["chunk"]) == sent[3:]
    # At the live edge "end" is still there (Synapse), to keep paging from when more comes.
    edge = ok(messages(alice, room, dir="f", **{"from": rest["end"]}, limit=10))
    assert edge["chunk"] == [] and "end" not in edge
    newer = send_ok(alice, room, "newer")
    assert event_ids(ok(messages(alice, room, dir="f", **{"from": rest["end"]}))["chunk"]) == [
        newer]
    # Backwards from the end token of the first page gives those events in reverse.
    back = ok(messages(alice, room, dir="b", **{"from": page["end"]}, limit=3))
    assert event_ids(back["chunk"]) == list(reversed(sent[:3]))


def test_to_token_bounds_the_page(alice):
    room = create_room(alice)
    sent = [send_ok(alice, room, f"m{i}") for i in range(3)]
    middle = sync(alice)["next_batch"]
    later = [send_ok(alice, room, f"n{i}") for i in range(3)]
    page = ok(messages(alice, room, dir="b", to=middle, limit=10))
    assert event_ids(page["chunk"]) == list(reversed(later))
    done = ok(messages(alice, room, dir="b", **{"from": page["end"]}, to=middle, limit=10))
    assert done["chunk"] == [] and "end" not in done
    page = ok(messages(alice, room, dir="f", **{"from": "t0"}, to=middle, limit=100))
    assert event_ids(page["chunk"])[-3:] == sent


def test_default_limit_is_ten(alice):
    room = create_room(alice)
    for i in range(15):
        send_ok(alice, room, f"m{i}")
    page = ok(messages(alice, room, dir="b"))
    assert len(page["chunk"]) == 10
    assert "end" in page


def test_chunk_events_have_room_id(alice):
    room = create_room(alice)
    send_ok(alice, room)
    page = ok(messages(alice, room, dir="b", limit=1))
    assert page["chunk"][0]["room_id"] == room


def test_filter(alice):
    room = create_room(alice)
    text = send_ok(alice, room, "t")
    image = send_ok(alice, room, "i", msgtype="m.image", url="mxc://localhost:8008/x")
    page = ok(messages(alice, room, dir="b", filter=json.dumps({"contains_url": True})))
    assert event_ids(page["chunk"]) == [image]
    page = ok(messages(alice, room, dir="b", limit=2,
                       filter=json.dumps({"types": ["m.room.message"]})))
    assert event_ids(page["chunk"]) == [image, text]
    page = ok(messages(alice, room, dir="b", filter=json.dumps({"not_rooms": [room]})))
    assert page["chunk"] == []


def test_lazy_loaded_members_in_state(alice, bob, register_user):
    carol = register_user("carol")
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    join(carol, room)
    send_ok(bob, room, "from bob")
    page = ok(messages(alice, room, dir="b", limit=1,
                       filter=json.dumps({"lazy_load_members": True})))
    members = {e["state_key"] for e in page["state"]}
    assert members == {bob.user_id}
    assert all(e["type"] == "m.room.member" for e in page["state"])


def test_history_visibility_applies(alice, bob):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "joined"})
    secret = send_ok(alice, room, "before bob")
    join(bob, room)
    after = send_ok(alice, room, "after bob")
    ids, _ = all_events_backwards(bob, room, limit=5)
    assert after in ids
    assert secret not in ids


def test_former_member_sees_up_to_leaving(alice, bob):
    room = create_room(alice, preset="public_chat")
    join(bob, room)
    before = send_ok(alice, room, "bob is here")
    leave(bob, room)
    after = send_ok(alice, room, "bob is gone")
    ids, _ = all_events_backwards(bob, room, limit=3)
    assert before in ids
    assert after not in ids


def test_non_member_is_forbidden(alice, bob):
    room = create_room(alice)
    send_ok(alice, room)
    response = messages(bob, room, dir="b")
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"


def test_world_readable_room_is_readable_by_anyone(alice, bob):
    room = create_room(alice, preset="public_chat")
    put_state_ok(alice, room, "m.room.history_visibility", {"history_visibility": "world_readable"})
    message = send_ok(alice, room, "public")
    assert message in event_ids(ok(messages(bob, room, dir="b"))["chunk"])


@pytest.mark.parametrize("query,errcode", [
    ("", "M_MISSING_PARAM"),
    ("dir=x", "M_INVALID_PARAM"),
    ("dir=b&limit=abc", "M_INVALID_PARAM"),
    ("dir=b&limit=-1", "M_INVALID_PARAM"),
    ("dir=b&from=nonsense", "M_INVALID_PARAM"),
    ("dir=b&to=s-5", "M_INVALID_PARAM"),
    ("dir=b&filter=%7Bnot%20json", "M_INVALID_PARAM"),
    ("dir=b&filter=" + quote(json.dumps({"limit": "x"})), "M_BAD_JSON"),
])
def test_bad_arguments(alice, query, errcode):
    room = create_room(alice)
    response = alice.get(f"{V3}/rooms/{quote(room)}/messages?{query}")
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["errcode"] == errcode


def test_prev_batch_of_initial_sync_continues_history(alice):
    room = create_room(alice)
    sent = [send_ok(alice, room, f"m{i}") for i in range(6)]
    entry = joined(sync(alice, filter={"room": {"timeline": {"limit": 2}}}), room)
    page = ok(messages(alice, room, dir="b", **{"from": entry["timeline"]["prev_batch"]},
                       limit=4))
    assert event_ids(page["chunk"]) == list(reversed(sent[:4]))
