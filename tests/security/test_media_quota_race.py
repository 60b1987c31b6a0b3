"""Attack: concurrent requests of one user slip past the per-user media caps.

On PostgreSQL (READ COMMITTED) each request counted the user's pending uploads or stored bytes
and then inserted: requests running at once all saw room for one more. The user's row is now
locked while counting and inserting. Real threads, each with its own connection.
"""

import threading

from media_helpers import UPLOAD, register_user_for  # noqa: F401

CREATE = "/_matrix/media/v1/create"
WORKERS = 8


def _race(app, user, send):
    barrier = threading.Barrier(WORKERS)
    statuses, bodies = [], []

    def run():
        client = app.test_client()
        barrier.wait()
        response = send(client)
        statuses.append(response.status_code)
        bodies.append(response.get_json())

    threads = [threading.Thread(target=run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, bodies


def test_concurrent_creates_respect_the_pending_cap(make_app, register_user_for):  # noqa: F811
    app = make_app(media={"max_pending_uploads_per_user": 2})
    mallory = register_user_for(app, "mallory")
    statuses, bodies = _race(app, mallory,
                             lambda c: c.post(CREATE, json={}, headers=mallory.headers))
    assert sorted(statuses) == [200] * 2 + [429] * (WORKERS - 2), bodies


def test_concurrent_uploads_respect_the_quota(make_app, register_user_for):  # noqa: F811
    app = make_app(media={"max_bytes_per_user": 2500})
    mallory = register_user_for(app, "mallory")
    statuses, bodies = _race(app, mallory, lambda c: c.post(
        UPLOAD, data=b"z" * 1000, headers={**mallory.headers,
                                           "Content-Type": "application/octet-stream"}))
    assert sorted(statuses) == [200] * 2 + [403] * (WORKERS - 2), bodies
