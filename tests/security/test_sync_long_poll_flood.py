"""Attack: one account opens many /sync long-polls at once to hold every worker thread.

At most ``per_user_limits.max_long_polls_per_device`` long-polls of a device (and
``max_long_polls_per_user`` of a user) wait at once in a process: each one beyond answers the
oldest waiting one at once with its empty incremental response (what a timeout sends).
"""

import threading

from homeserver.services.streams.long_polls import registry

V3 = "/_matrix/client/v3"
JOIN_TIMEOUT_S = 60  # a safety net against a hung test, not a measured limit


def _login(app, user, device_id):
    response = app.test_client().post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user.user_id},
        "password": user.password, "device_id": device_id})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _flood(app, polls):
    """Start the long-polls ``polls`` (headers, since) in threads; returns (results, done,
    threads) where ``done`` is a Condition notified at each answer."""
    results, done = [], threading.Condition()

    def poll(headers, since):
        response = app.test_client().get(f"{V3}/sync?since={since}&timeout=100000",
                                         headers=headers)
        with done:
            results.append((response.status_code, response.get_json()))
            done.notify_all()

    threads = [threading.Thread(target=poll, args=p) for p in polls]
    for thread in threads:
        thread.start()
    return results, done, threads


def _wait_for(done, results, count):
    with done:
        assert done.wait_for(lambda: len(results) >= count, JOIN_TIMEOUT_S)


def _wake_and_join(user, headers, threads):
    # A write that concerns the user wakes the long-polls still waiting.
    user.client.put(f"{V3}/user/{user.user_id}/account_data/x.wake", json={}, headers=headers)
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
        assert not thread.is_alive()


def test_extra_long_polls_of_a_device_answer_the_oldest(make_app, register_user):
    app = make_app(presence={"enabled": False},
                   per_user_limits={"max_long_polls_per_device": 2,
                                    "max_long_polls_per_user": 10})
    mallory = register_user("mallory")
    headers = _login(app, mallory, "DEV")
    since = app.test_client().get(f"{V3}/sync", headers=headers).get_json()["next_batch"]
    results, done, threads = _flood(app, [(headers, since)] * 12)
    _wait_for(done, results, 10)  # every poll beyond two answered the oldest waiting one
    assert registry.waiting(mallory.user_id, "DEV") == 2
    for status, body in results:
        assert status == 200
        assert body["next_batch"] and not body.get("rooms", {}).get("join")
    _wake_and_join(mallory, headers, threads)
    assert len(results) == 12
    assert registry.waiting(mallory.user_id) == 0


def test_long_polls_of_a_user_are_capped_across_devices(make_app, register_user):
    app = make_app(presence={"enabled": False},
                   per_user_limits={"max_long_polls_per_device": 2,
                                    "max_long_polls_per_user": 3})
    mallory = register_user("mallory")
    devices = [_login(app, mallory, f"D{n}") for n in range(6)]
    since = app.test_client().get(f"{V3}/sync", headers=devices[0]).get_json()["next_batch"]
    results, done, threads = _flood(app, [(h, since) for h in devices])
    _wait_for(done, results, 3)
    assert registry.waiting(mallory.user_id) == 3
    assert all(status == 200 for status, _ in results)
    _wake_and_join(mallory, devices[0], threads)
    assert registry.waiting(mallory.user_id) == 0
