"""Synapse's admin API for rooms (/_synapse/admin/v1/rooms ..., DELETE /v2/rooms): server
admins only, the shapes and paging of Synapse's rooms.md."""

from helpers.api import error, ok
from helpers.rooms import create_room, send_ok
from helpers.sync import sync
from helpers.synapse_admin import (  # noqa: F401 (root: a fixture)
    ROOM_DETAILS, ROOM_LIST_ENTRY, SHUTDOWN, SYNAPSE, forbidden, q, root)

V3 = "/_matrix/client/v3"


def _names(page):
    return [room["name"] for room in page["rooms"]]


def test_non_admins_get_403(client, register_user):
    alice = register_user("alice")
    room = q(create_room(alice))
    for method, path in (("GET", "/v1/rooms"), ("GET", f"/v1/rooms/{room}"),
                         ("GET", f"/v1/rooms/{room}/members"), ("GET", f"/v1/rooms/{room}/state"),
                         ("GET", f"/v1/rooms/{room}/block"), ("PUT", f"/v1/rooms/{room}/block"),
                         ("DELETE", f"/v1/rooms/{room}"), ("DELETE", f"/v2/rooms/{room}"),
                         ("GET", f"/v2/rooms/{room}/delete_status"),
                         ("GET", "/v2/rooms/delete_status/x")):
        forbidden(alice.request(method, SYNAPSE + path, json={"block": True}))
        assert client.open(SYNAPSE + path, method=method).status_code == 401
    assert alice.get(f"{V3}/rooms/{room}/state").status_code == 200


def test_list_orders_pages_and_searches(register_user, root):
    alice, bob = register_user("alice"), register_user("bob")
    rooms = {name: create_room(alice, name=name, preset="public_chat")
             for name in ("Charlie", "alpha", "Bravo")}
    ok(bob.post(f"{V3}/join/{q(rooms['Bravo'])}"))
    create_room(alice)  # no name: listed last
    page = ok(root.get(f"{SYNAPSE}/v1/rooms?limit=2"))
    assert page["total_rooms"] == 4 and page["offset"] == 0 and page["next_batch"] == 2
    assert "prev_batch" not in page
    assert set(page["rooms"][0]) == ROOM_LIST_ENTRY
    rest = ok(root.get(f"{SYNAPSE}/v1/rooms?from=2&limit=2"))
    assert "next_batch" not in rest and rest["prev_batch"] == 0
    assert _names(page) + _names(rest) == ["Bravo", "Charlie", "alpha", None] or \
        _names(page) + _names(rest) == ["alpha", "Bravo", "Charlie", None]
    bravo = next(r for r in page["rooms"] + rest["rooms"] if r["name"] == "Bravo")
    assert bravo["joined_members"] == 2 and bravo["joined_local_members"] == 2
    assert bravo["creator"] == alice.user_id and bravo["join_rules"] == "public"
    assert bravo["federatable"] is True and bravo["public"] is False
    assert bravo["history_visibility"] == "shared" and bravo["state_events"] >= 6
    # The biggest first by size; dir=b turns it around.
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?order_by=size"))["rooms"][0]["room_id"] == \
        rooms["Bravo"]
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?order_by=joined_members&dir=b"))["rooms"][-1][
        "room_id"] == rooms["Bravo"]
    found = ok(root.get(f"{SYNAPSE}/v1/rooms?search_term=rav"))
    assert [r["room_id"] for r in found["rooms"]] == [rooms["Bravo"]] and found["total_rooms"] == 1
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?search_term={q(rooms['alpha'])}"))["total_rooms"] == 1
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?search_term=%25"))["total_rooms"] == 0
    for order in ("name", "canonical_alias", "version", "creator", "encryption", "public",
                  "join_rules", "guest_access", "history_visibility", "state_events"):
        assert ok(root.get(f"{SYNAPSE}/v1/rooms?order_by={order}"))["total_rooms"] == 4
    for bad in ("order_by=secret", "from=-2", "dir=x", "limit=ten"):
        assert root.get(f"{SYNAPSE}/v1/rooms?{bad}").status_code == 400, bad


def test_room_details_members_state(register_user, root):
    alice = register_user("alice")
    room = create_room(alice, name="Den", topic="Talk", room_alias_name="den",
                       initial_state=[{"type": "m.room.encryption", "state_key": "",
                                       "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
    details = ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}"))
    assert set(details) == ROOM_DETAILS
    assert details["name"] == "Den" and details["topic"] == "Talk"
    assert details["canonical_alias"] == "#den:localhost:8008"
    assert details["encryption"] == "m.megolm.v1.aes-sha2"
    assert details["joined_local_devices"] == 1
    assert ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/members")) == {
        "members": [alice.user_id], "total": 1}
    state = ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/state"))["state"]
    assert {e["type"] for e in state} >= {"m.room.create", "m.room.name", "m.room.member"}
    assert all("event_id" in e and "content" in e for e in state)
    for path in ("", "/members", "/state"):
        error(root.get(f"{SYNAPSE}/v1/rooms/{q('!nope:localhost:8008')}{path}"), 404,
              "M_NOT_FOUND")
    # Renaming the room moves it in the list.
    ok(alice.put(f"{V3}/rooms/{q(room)}/state/m.room.name/", json={"name": "Zoo"}))
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?search_term=zoo"))["rooms"][0]["name"] == "Zoo"


def test_block_room(register_user, root):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="public_chat")
    assert ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/block")) == {"block": False}
    assert ok(root.put(f"{SYNAPSE}/v1/rooms/{q(room)}/block", json={"block": True})) == {
        "block": True}
    assert ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/block")) == {"block": True,
                                                                    "user_id": root.user_id}
    error(bob.post(f"{V3}/join/{q(room)}"), 403, "M_FORBIDDEN")
    error(alice.post(f"{V3}/rooms/{q(room)}/invite", json={"user_id": bob.user_id}), 403,
          "M_FORBIDDEN")
    error(alice.put(f"{V3}/rooms/{q(room)}/state/m.room.member/{q(bob.user_id)}",
                    json={"membership": "invite"}), 403, "M_FORBIDDEN")
    error(bob.put(f"{V3}/rooms/{q(room)}/state/m.room.member/{q(bob.user_id)}",
                  json={"membership": "join"}), 403, "M_FORBIDDEN")
    ok(root.put(f"{SYNAPSE}/v1/rooms/{q(room)}/block", json={"block": False}))
    ok(bob.post(f"{V3}/join/{q(room)}"))
    assert root.put(f"{SYNAPSE}/v1/rooms/{q(room)}/block", json={}).status_code == 400


def test_delete_room_v2_blocks_purges_and_reports_status(app, register_user, root):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, preset="public_chat", room_alias_name="doomed")
    ok(bob.post(f"{V3}/join/{q(room)}"))
    send_ok(alice, room, "bye")
    since = sync(bob)["next_batch"]
    delete_id = ok(root.delete(f"{SYNAPSE}/v2/rooms/{q(room)}",
                               json={"block": True, "purge": True}))["delete_id"]
    status = ok(root.get(f"{SYNAPSE}/v2/rooms/delete_status/{delete_id}"))
    assert status["status"] == "complete" and status["error"] == ""
    assert set(status["shutdown_room"]) == SHUTDOWN
    assert sorted(status["shutdown_room"]["kicked_users"]) == sorted([alice.user_id,
                                                                     bob.user_id])
    assert status["shutdown_room"]["local_aliases"] == ["#doomed:localhost:8008"]
    by_room = ok(root.get(f"{SYNAPSE}/v2/rooms/{q(room)}/delete_status"))["results"]
    assert [r["delete_id"] for r in by_room] == [delete_id]
    # Gone: the room, its alias, its history; blocked for good.
    error(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}"), 404, "M_NOT_FOUND")
    error(bob.get(f"{V3}/directory/room/{q('#doomed:localhost:8008')}"), 404, "M_NOT_FOUND")
    error(bob.get(f"{V3}/rooms/{q(room)}/messages?dir=b"), 403, "M_FORBIDDEN")
    assert room not in ok(bob.get(f"{V3}/joined_rooms"))["joined_rooms"]
    assert room not in sync(bob, since=since).get("rooms", {}).get("join", {})
    error(bob.post(f"{V3}/join/{q(room)}"), 404, "M_NOT_FOUND")
    assert ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/block"))["block"] is True
    assert ok(root.get(f"{SYNAPSE}/v1/rooms"))["total_rooms"] == 0
    error(root.get(f"{SYNAPSE}/v2/rooms/delete_status/unknown"), 404, "M_NOT_FOUND")


def test_delete_room_v1_without_purge_keeps_history(register_user, root):
    alice = register_user("alice")
    room = create_room(alice)
    result = ok(root.delete(f"{SYNAPSE}/v1/rooms/{q(room)}", json={"purge": False}))
    assert result == {"kicked_users": [alice.user_id], "failed_to_kick_users": [],
                      "local_aliases": [], "new_room_id": None}
    details = ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}"))
    assert details["joined_members"] == 0
    assert ok(root.get(f"{SYNAPSE}/v1/rooms?empty_rooms=true"))["total_rooms"] == 1
    error(root.delete(f"{SYNAPSE}/v2/rooms/{q('!nope:localhost:8008')}", json={}), 404,
          "M_NOT_FOUND")
    error(root.delete(f"{SYNAPSE}/v2/rooms/{q(room)}", json={"new_room_user_id": "@x:y"}),
          400, "M_INVALID_PARAM")
