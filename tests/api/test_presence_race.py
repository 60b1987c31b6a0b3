"""Concurrent first syncs of one user must not fail on creating their presence row."""

import threading

V3 = "/_matrix/client/v3"


def test_concurrent_first_syncs_all_succeed(app, register_user):
    alice = register_user("alice")
    statuses = []
    barrier = threading.Barrier(8)

    def sync():
        client = app.test_client()
        barrier.wait()
        response = client.get(f"{V3}/sync?timeout=0", headers=alice.headers)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=sync) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 8
    presence = alice.get(f"{V3}/presence/{alice.user_id}/status").get_json()
    assert presence["presence"] == "online"
