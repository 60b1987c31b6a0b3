"""Race: concurrent PUTs of different tags on one room (PostgreSQL READ COMMITTED).

Each PUT read the m.tag document, added its tag and wrote the document back: PUTs running at
once each wrote back what they read, so all but one tag were lost. The read-modify-write now
runs under the user's row lock. Real threads, each with its own connection.
"""

import threading

V3 = "/_matrix/client/v3"
WORKERS = 8


def test_concurrent_tag_writes_keep_every_tag(app, register_user):
    alice = register_user("alice")
    path = f"{V3}/user/{alice.user_id}/rooms/!room:localhost:8008/tags"
    barrier = threading.Barrier(WORKERS)
    statuses = []

    def put(n):
        client = app.test_client()
        barrier.wait()
        statuses.append(client.put(f"{path}/u.tag{n}", json={"order": n / 10},
                                   headers=alice.headers).status_code)

    threads = [threading.Thread(target=put, args=(n,)) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * WORKERS
    tags = alice.get(path).get_json()["tags"]
    assert sorted(tags) == sorted(f"u.tag{n}" for n in range(WORKERS))
