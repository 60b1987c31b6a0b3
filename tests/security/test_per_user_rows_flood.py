"""Attack: one account fills the database with rows it may create at will: stored filters,
account data types (global, in a room, across made-up rooms) and room tags.

Filters are deduplicated and capped (the oldest is dropped); account data types and tags past
``per_user_limits`` are refused with 403 M_USER_LIMIT_EXCEEDED, while replacing an existing
type or tag keeps working.
"""

from homeserver.models.account_data import AccountData
from homeserver.models.filters import Filter

V3 = "/_matrix/client/v3"
LIMITS = {"max_filters": 3, "max_account_data_types": 4, "max_room_account_data_types": 2,
          "max_room_account_data_total": 5, "max_tags_per_room": 3}


def _user(make_app, register_user):
    app = make_app(per_user_limits=LIMITS)
    handle = register_user("mallory")
    handle.client = app.test_client()
    return handle


def test_filters_are_deduplicated_and_capped(make_app, register_user):
    mallory = _user(make_app, register_user)
    path = f"{V3}/user/{mallory.user_id}/filter"
    same = {mallory.post(path, json={"room": {"timeline": {"limit": 5}}}).get_json()["filter_id"]
            for _ in range(10)}
    assert len(same) == 1
    ids = [mallory.post(path, json={"room": {"timeline": {"limit": n}}}).get_json()["filter_id"]
           for n in range(10, 30)]
    assert Filter.select().where(Filter.user_id == mallory.user_id).count() == 3
    # The newest ones still work; the oldest are gone.
    assert mallory.get(f"{path}/{ids[-1]}").get_json() == {"room": {"timeline": {"limit": 29}}}
    assert mallory.get(f"{path}/{ids[0]}").status_code == 404


def test_account_data_types_are_capped(make_app, register_user):
    mallory = _user(make_app, register_user)
    base = f"{V3}/user/{mallory.user_id}"
    for n in range(4):
        assert mallory.put(f"{base}/account_data/x.t{n}", json={"n": n}).status_code == 200
    refused = mallory.put(f"{base}/account_data/x.t99", json={})
    assert refused.status_code == 403
    assert refused.get_json()["errcode"] == "M_USER_LIMIT_EXCEEDED"
    assert mallory.put(f"{base}/account_data/x.t0", json={"n": "again"}).status_code == 200

    room = f"{base}/rooms/!r1:localhost:8008/account_data"
    assert mallory.put(f"{room}/x.a", json={}).status_code == 200
    assert mallory.put(f"{room}/x.b", json={}).status_code == 200
    assert mallory.put(f"{room}/x.c", json={}).get_json()["errcode"] == "M_USER_LIMIT_EXCEEDED"
    # Spreading over made-up room IDs hits the total.
    statuses = [mallory.put(f"{base}/rooms/!fake{n}:localhost:8008/account_data/x.a",
                            json={}).status_code for n in range(10)]
    assert statuses == [200] * 3 + [403] * 7
    rows = AccountData.select().where(AccountData.user_id == mallory.user_id).count()
    assert rows == 4 + 5


def test_tags_are_capped(make_app, register_user):
    mallory = _user(make_app, register_user)
    tags = f"{V3}/user/{mallory.user_id}/rooms/!r:localhost:8008/tags"
    for n in range(3):
        assert mallory.put(f"{tags}/u.t{n}", json={}).status_code == 200
    refused = mallory.put(f"{tags}/u.t3", json={})
    assert refused.status_code == 403
    assert refused.get_json()["errcode"] == "M_USER_LIMIT_EXCEEDED"
    assert mallory.put(f"{tags}/u.t1", json={"order": 0.5}).status_code == 200
    assert mallory.delete(f"{tags}/u.t0").status_code == 200
    assert mallory.put(f"{tags}/u.t3", json={}).status_code == 200
    assert sorted(mallory.get(tags).get_json()["tags"]) == ["u.t1", "u.t2", "u.t3"]
