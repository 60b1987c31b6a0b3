"""Account data in /sync: global (with m.push_rules), per joined room (tags, m.fully_read...),
only what changed on incremental syncs, everything for a newly joined room, filters."""

from urllib.parse import quote

from helpers.api import V3, ok
from helpers.rooms import create_room, join
from helpers.sync import joined, sync


def global_types(body):
    return {e["type"]: e["content"] for e in body["account_data"]["events"]}


def room_types(body, room_id):
    entry = body["rooms"]["join"].get(room_id, {})
    return {e["type"]: e["content"] for e in entry.get("account_data", {}).get("events", [])}


def put_global(user, data_type, content):
    ok(user.put(f"{V3}/user/{quote(user.user_id)}/account_data/{data_type}", json=content))


def put_room(user, room_id, data_type, content):
    ok(user.put(f"{V3}/user/{quote(user.user_id)}/rooms/{quote(room_id)}/account_data/"
                f"{data_type}", json=content))


def test_initial_sync_has_push_rules_and_account_data(alice):
    put_global(alice, "org.example.settings", {"theme": "dark"})
    body = sync(alice)
    types = global_types(body)
    assert types["org.example.settings"] == {"theme": "dark"}
    assert types["m.push_rules"]["global"]["override"][0]["rule_id"] == ".m.rule.master"


def test_incremental_sync_sends_changes_once(alice):
    first = sync(alice)
    put_global(alice, "org.example.settings", {"v": 1})
    second = sync(alice, since=first["next_batch"])
    assert global_types(second) == {"org.example.settings": {"v": 1}}
    third = sync(alice, since=second["next_batch"])
    assert global_types(third) == {}


def test_push_rule_changes_are_synced(alice):
    first = sync(alice)
    ok(alice.put(f"{V3}/pushrules/global/override/.m.rule.master/enabled", json={"enabled": True}))
    types = global_types(sync(alice, since=first["next_batch"]))
    assert types["m.push_rules"]["global"]["override"][0]["enabled"] is True


def test_room_account_data_and_tags(alice):
    room_id = create_room(alice)
    first = sync(alice)
    put_room(alice, room_id, "org.example.room", {"pinned": True})
    ok(alice.put(f"{V3}/user/{quote(alice.user_id)}/rooms/{quote(room_id)}/tags/m.favourite",
                 json={"order": 0.5}))
    body = sync(alice, since=first["next_batch"])
    assert room_types(body, room_id) == {"org.example.room": {"pinned": True},
                                         "m.tag": {"tags": {"m.favourite": {"order": 0.5}}}}
    assert "org.example.room" not in global_types(body)
    assert room_types(sync(alice), room_id)["m.tag"] == {"tags": {"m.favourite": {"order": 0.5}}}


def test_room_account_data_of_a_room_joined_later(register_user, alice):
    bob = register_user("bob")
    room_id = create_room(alice, preset="public_chat")
    put_room(bob, room_id, "org.example.before", {"x": 1})
    first = sync(bob)
    assert room_id not in first["rooms"]["join"]
    join(bob, room_id)
    body = sync(bob, since=first["next_batch"])
    assert room_types(body, room_id) == {"org.example.before": {"x": 1}}


def test_account_data_filters(alice):
    room_id = create_room(alice)
    put_global(alice, "org.example.a", {})
    put_global(alice, "org.example.b", {})
    put_room(alice, room_id, "org.example.r", {})
    body = sync(alice, filter={"account_data": {"types": ["org.example.a"]},
                               "room": {"account_data": {"not_types": ["org.example.r"]}}})
    assert set(global_types(body)) == {"org.example.a"}
    assert room_types(body, room_id) == {}


def test_direct_and_ignored_user_list_are_synced(alice):
    first = sync(alice)
    put_global(alice, "m.direct", {"@bob:localhost:8008": ["!dm:localhost:8008"]})
    put_global(alice, "m.ignored_user_list", {"ignored_users": {"@eve:localhost:8008": {}}})
    types = global_types(sync(alice, since=first["next_batch"]))
    assert types["m.direct"] == {"@bob:localhost:8008": ["!dm:localhost:8008"]}
    assert types["m.ignored_user_list"] == {"ignored_users": {"@eve:localhost:8008": {}}}


def test_account_data_wakes_a_waiting_sync(alice, app):
    import threading
    first = sync(alice)
    client = app.test_client()
    result = {}

    def wait():
        result["body"] = client.get(
            f"{V3}/sync?since={quote(first['next_batch'])}&timeout=30000",
            headers=alice.headers).get_json()

    waiter = threading.Thread(target=wait)
    waiter.start()
    put_global(alice, "org.example.wake", {"now": True})
    waiter.join(60)
    assert global_types(result["body"]) == {"org.example.wake": {"now": True}}


def test_unread_counts_are_on_every_joined_room_of_an_initial_sync(alice):
    room_id = create_room(alice)
    assert joined(sync(alice), room_id)["unread_notifications"] == {
        "notification_count": 0, "highlight_count": 0}
