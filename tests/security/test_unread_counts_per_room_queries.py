"""Attack: a user in many rooms makes every initial /sync (and every push, through the badge
count) run two queries per joined room to count unread notifications.

Counts are now computed for all rooms together: the number of statements on the notification
tables does not grow with the number of rooms, and the counts stay right.
"""

from urllib.parse import quote

from homeserver.models.push import NotifyingEvent, PushAction
from homeserver.services.push import notifications
from sql_counter import sql_statements, touching
from sync_support import V3, create_room, invite, join, ok, send


def _rooms(alice, bob, count):
    rooms = []
    for n in range(count):
        room_id = create_room(alice)
        invite(alice, room_id, bob)
        join(bob, room_id)
        for i in range(n % 3 + 1):
            send(alice, room_id, f"message {i}")
        rooms.append(room_id)
    return rooms


def _notification_queries(monkeypatch, work):
    with sql_statements(monkeypatch) as seen:
        result = work()
    tables = (NotifyingEvent._meta.table_name, PushAction._meta.table_name)
    return result, len(touching(seen, *tables))


def test_unread_counts_cost_the_same_for_few_and_many_rooms(register_user, monkeypatch):
    alice, bob = register_user("alice"), register_user("bob")
    rooms = _rooms(alice, bob, 3)
    last = send(alice, rooms[0], "read me")
    ok(bob.post(f"{V3}/rooms/{quote(rooms[0])}/receipt/m.read/{quote(last)}", json={}))

    body, few = _notification_queries(monkeypatch, lambda: ok(bob.get(f"{V3}/sync")))
    joined = body["rooms"]["join"]
    assert joined[rooms[0]]["unread_notifications"]["notification_count"] == 0
    assert joined[rooms[1]]["unread_notifications"]["notification_count"] == 2
    assert joined[rooms[2]]["unread_notifications"]["notification_count"] == 3

    rooms += _rooms(alice, bob, 9)
    body, many = _notification_queries(monkeypatch, lambda: ok(bob.get(f"{V3}/sync")))
    joined = body["rooms"]["join"]
    for n, room_id in enumerate(rooms):
        expected = 0 if n == 0 else n % 3 + 1
        assert joined[room_id]["unread_notifications"]["notification_count"] == expected
    assert 0 < many == few

    total, badge_queries = _notification_queries(
        monkeypatch, lambda: notifications.total_unread(bob.user_id))
    assert total == sum(n % 3 + 1 for n in range(1, 12))
    assert 0 < badge_queries <= 2
