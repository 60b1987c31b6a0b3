"""Attack: one account uploads (or reserves mxc URIs) as fast as it can to fill the disk.

Uploads and /create count against ``rate_limits.media_upload_per_user``: past the burst the
server answers 429 M_LIMIT_EXCEEDED with retry_after_ms before reading the body.
"""

from helpers.media import UPLOAD

CREATE = "/_matrix/media/v1/create"


def test_upload_burst_is_rate_limited(make_app, register_user_for, clock):
    app = make_app(rate_limits={"enabled": True,
                                "media_upload_per_user": {"per_second": 0.5, "burst": 3}})
    mallory = register_user_for(app, "mallory")
    statuses = [mallory.post(UPLOAD, data=b"x" * 100).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = mallory.post(UPLOAD, data=b"x" * 100)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["errcode"] == "M_LIMIT_EXCEEDED" and body["retry_after_ms"] > 0
    # /create shares the bucket.
    assert mallory.post(CREATE, json={}).status_code == 429
    # Another user is not affected.
    assert register_user_for(app, "alice").post(UPLOAD, data=b"y").status_code == 200
    # Once the bucket drains, uploads go through again.
    clock.advance(2_000)
    assert mallory.post(UPLOAD, data=b"x").status_code == 200
