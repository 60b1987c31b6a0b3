"""Attack: one account opens many GET /events long-polls (the deprecated event stream, with or
without room_id) at once to hold every worker thread.

They are capped like /sync's (``per_user_limits``): at most ``max_long_polls_per_device`` of a
device wait at once (in a slot of their own beside the device's /sync), and every one beyond
answers the oldest waiting one at once with its empty chunk; the user's cap counts them too.
"""

import threading

from homeserver.services.streams.long_polls import registry

V3 = "/_matrix/client/v3"
JOIN_TIMEOUT_S = 60  # a safety net against a hung test, not a measured limit


def _flood(app, headers, count, query=""):
    results, done = [], threading.Condition()

    def poll():
        response = app.test_client().get(f"{V3}/events?timeout=100000{query}", headers=headers)
        with done:
            results.append((response.status_code, response.get_json()))
            done.notify_all()

    threads = [threading.Thread(target=poll) for _ in range(count)]
    for thread in threads:
        thread.start()
    return results, done, threads


def _wake_and_join(user, threads):
    # A write that concerns the user wakes the long-polls still waiting.
    user.put(f"{V3}/user/{user.user_id}/account_data/x.wake", json={})
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive()


def test_extra_event_stream_long_polls_answer_the_oldest(make_app, register_user):
    app = make_app(presence={"enabled": False},
                   per_user_limits={"max_long_polls_per_device": 2,
                                    "max_long_polls_per_user": 10})
    mallory = register_user("mallory")
    results, done, threads = _flood(app, mallory.headers, 12)
    with done:
        assert done.wait_for(lambda: len(results) >= 10, JOIN_TIMEOUT_S)
    key = f"{mallory.device_id} /events"
    assert registry.waiting(mallory.user_id, key) == 2
    assert all(status == 200 and body["chunk"] == [] for status, body in results)
    _wake_and_join(mallory, threads)
    assert len(results) == 12
    assert registry.waiting(mallory.user_id) == 0


def test_event_stream_long_polls_count_against_the_user_cap(make_app, register_user):
    app = make_app(presence={"enabled": False},
                   per_user_limits={"max_long_polls_per_device": 5,
                                    "max_long_polls_per_user": 3})
    mallory = register_user("mallory")
    room = mallory.post(f"{V3}/createRoom", json={}).get_json()["room_id"]
    results, done, threads = _flood(app, mallory.headers, 6, f"&room_id={room}")
    with done:
        assert done.wait_for(lambda: len(results) >= 3, JOIN_TIMEOUT_S)
    assert registry.waiting(mallory.user_id) == 3
    assert all(status == 200 for status, _ in results)
    mallory.post(f"{V3}/rooms/{room}/send/m.room.message", json={"body": "wake"})
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive()
    assert registry.waiting(mallory.user_id) == 0
