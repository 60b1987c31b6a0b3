"""Attack: one device uploads one-time keys in many requests at once to get past
``e2e.max_one_time_keys_per_device``.

On PostgreSQL (READ COMMITTED) each upload counted the device's unclaimed keys and then
inserted its own: uploads running at once all saw room and all were stored, so the cap only
bounded each request, not the device. The uploading user's row is now locked while counting
and inserting. Real threads, each with its own connection.
"""

import threading

from helpers.keys import V3, make_user

LIMIT = 100
WORKERS = 8
PER_UPLOAD = 40


def test_concurrent_uploads_respect_the_one_time_key_cap(make_app):
    app = make_app(e2e={"max_one_time_keys_per_device": LIMIT})
    mallory = make_user(app.test_client(), "mallory", "M1")
    barrier = threading.Barrier(WORKERS)
    statuses = []

    def upload(batch: int):
        client = app.test_client()
        keys = {f"curve25519:b{batch}k{i}": f"key{batch}-{i}" for i in range(PER_UPLOAD)}
        barrier.wait()
        response = client.post(f"{V3}/keys/upload", json={"one_time_keys": keys},
                               headers=mallory.headers)
        statuses.append((response.status_code, (response.get_json() or {}).get("errcode")))

    threads = [threading.Thread(target=upload, args=(batch,)) for batch in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Two uploads of 40 fit under 100, a third would not: the others are refused whole.
    assert sorted(statuses) == [(200, None)] * 2 + [(400, "M_INVALID_PARAM")] * (WORKERS - 2)
    counts = app.test_client().post(f"{V3}/keys/upload", json={},
                                    headers=mallory.headers).get_json()["one_time_key_counts"]
    assert counts["curve25519"] == 2 * PER_UPLOAD
