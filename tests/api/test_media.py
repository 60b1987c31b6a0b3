"""Content repository: uploads, asynchronous uploads, authenticated and legacy downloads,
safe serving headers, limits and quotas."""

import hashlib
import os
import threading
import time

import pytest

from homeserver.services.media import repository
from helpers.media import DOWNLOAD, SERVER, UPLOAD, media_files, upload

CREATE = "/_matrix/media/v1/create"
LEGACY_DOWNLOAD = "/_matrix/media/v3/download"


def test_upload_then_download_byte_for_byte(client, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    data = os.urandom(300_000)
    ref = upload(alice, data, "image/png", "cat.png")
    response = bob.get(f"{DOWNLOAD}/{ref}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == 'inline; filename="cat.png"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_download_requires_authentication(client, register_user):
    ref = upload(register_user("alice"), b"secret")
    response = client.get(f"{DOWNLOAD}/{ref}")
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_unsafe_types_are_attachments_and_keep_their_type(client, register_user):
    alice = register_user("alice")
    ref = upload(alice, b"<script>alert(1)</script>", "text/html", "page.html")
    response = alice.get(f"{DOWNLOAD}/{ref}")
    assert response.headers["Content-Type"] == "text/html"
    assert response.headers["Content-Disposition"] == 'attachment; filename="page.html"'
    svg = upload(alice, b"<svg/>", "image/svg+xml")
    response = alice.get(f"{DOWNLOAD}/{svg}")
    assert response.headers["Content-Disposition"] == "attachment"


def test_missing_content_type_defaults_to_octet_stream(client, register_user):
    alice = register_user("alice")
    response = alice.post(UPLOAD, data=b"abc")
    assert response.status_code == 200
    ref = response.get_json()["content_uri"][len("mxc://"):]
    downloaded = alice.get(f"{DOWNLOAD}/{ref}")
    assert downloaded.headers["Content-Type"] == "application/octet-stream"
    assert downloaded.headers["Content-Disposition"] == "attachment"


def test_filename_encoding(client, register_user):
    alice = register_user("alice")
    ref = upload(alice, b"x", "text/plain", "r%C3%A9sum%C3%A9%20%22final%22.txt")
    response = alice.get(f"{DOWNLOAD}/{ref}")
    assert response.headers["Content-Disposition"] == (
        "inline; filename*=utf-8''r%C3%A9sum%C3%A9%20%22final%22.txt")
    # The name in the path replaces the uploaded one.
    response = alice.get(f"{DOWNLOAD}/{ref}/other%20name.txt")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'inline; filename="other name.txt"'


def test_same_bytes_are_stored_once(app, client, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    data = os.urandom(10_000)
    first = upload(alice, data)
    second = upload(bob, data, "image/png")
    assert first != second
    digest = hashlib.sha256(data).hexdigest()
    matching = [p for p in media_files(app) if os.path.basename(p) == digest]
    assert len(matching) == 1
    assert len(media_files(app)) == 1
    assert bob.get(f"{DOWNLOAD}/{second}").headers["Content-Type"] == "image/png"


def test_range_requests(client, register_user):
    alice = register_user("alice")
    data = bytes(range(256)) * 100
    ref = upload(alice, data)
    response = alice.get(f"{DOWNLOAD}/{ref}", headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.data == data[100:200]
    assert response.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    response = alice.get(f"{DOWNLOAD}/{ref}", headers={"Range": f"bytes={len(data) + 10}-"})
    assert response.status_code == 416


def test_unknown_and_remote_media_are_not_found(client, register_user):
    alice = register_user("alice")
    ref = upload(alice, b"hello")
    media_id = ref.split("/", 1)[1]
    for path in (f"{DOWNLOAD}/{SERVER}/doesnotexist", f"{DOWNLOAD}/example.org/{media_id}",
                 f"{DOWNLOAD}/matrix.org:8448/{media_id}"):
        response = alice.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["errcode"] == "M_NOT_FOUND"


@pytest.mark.parametrize("media_id", ["..%2F..%2Fetc%2Fpasswd", "..", "a.b", "%2e%2e",
                                      "abc%00def", "abc%2Fdef", "..%5C..%5Cwin.ini", "%C3%A9"])
def test_media_ids_outside_the_grammar_never_touch_the_disk(client, register_user, media_id):
    alice = register_user("alice")
    for path in (f"{DOWNLOAD}/{SERVER}/{media_id}", f"{DOWNLOAD}/{SERVER}/{media_id}/x.txt",
                 f"/_matrix/client/v1/media/thumbnail/{SERVER}/{media_id}?width=32&height=32"):
        response = alice.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["errcode"] in ("M_NOT_FOUND", "M_UNRECOGNIZED")


def test_traversal_in_server_name_is_not_found(client, register_user):
    alice = register_user("alice")
    response = alice.get(f"{DOWNLOAD}/..%2F..%2Fetc/passwd")
    assert response.status_code == 404


def test_upload_larger_than_limit_is_refused(make_app, register_user_for):
    app = make_app(media={"max_upload_size": 1000})
    alice = register_user_for(app, "alice")
    response = alice.post(UPLOAD, data=b"x" * 1001, headers={"Content-Type": "text/plain"})
    assert response.status_code == 413
    assert response.get_json()["errcode"] == "M_TOO_LARGE"
    assert media_files(app) == []
    assert alice.post(UPLOAD, data=b"x" * 1000).status_code == 200
    config = alice.get("/_matrix/client/v1/media/config")
    assert config.get_json() == {"m.upload.size": 1000}


def test_upload_without_content_length_is_cut_at_the_limit(make_app, register_user_for):
    app = make_app(media={"max_upload_size": 100_000})
    alice = register_user_for(app, "alice")

    class Chunked:
        """A body of unknown length (chunked transfer encoding) that never ends."""
        sent = 0

        def read(self, size=-1):
            self.sent += 65536
            return b"y" * 65536

    body = Chunked()
    response = alice.post(UPLOAD,
                          environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True},
                          headers={"Transfer-Encoding": "chunked"})
    assert response.status_code == 413
    assert response.get_json()["errcode"] == "M_TOO_LARGE"
    assert body.sent < 400_000  # stopped reading soon after the limit
    tmp = os.path.join(app.config["HOMESERVER"].data_dir, "media", "tmp")
    assert os.listdir(tmp) == []


def test_json_body_limit_does_not_apply_to_uploads(make_app, register_user_for):
    app = make_app(max_request_size=65536)
    alice = register_user_for(app, "alice")
    data = os.urandom(500_000)
    response = alice.post(UPLOAD, data=data)
    assert response.status_code == 200


def test_quota_per_user(make_app, register_user_for):
    app = make_app(media={"max_bytes_per_user": 1500})
    alice = register_user_for(app, "alice")
    assert alice.post(UPLOAD, data=b"a" * 1000).status_code == 200
    response = alice.post(UPLOAD, data=b"b" * 1000)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    assert register_user_for(app, "bob").post(UPLOAD, data=b"b" * 1000).status_code == 200


def test_upload_requires_authentication(client):
    response = client.post(UPLOAD, data=b"abc")
    assert response.status_code == 401
    assert client.post(CREATE).status_code == 401


def test_config_endpoints(client, register_user):
    alice = register_user("alice")
    for path in ("/_matrix/client/v1/media/config", "/_matrix/media/v3/config"):
        response = alice.get(path)
        assert response.status_code == 200
        assert response.get_json() == {"m.upload.size": 100 * 1024 * 1024}
    assert client.get("/_matrix/client/v1/media/config").status_code == 401


# --- asynchronous upload ------------------------------------------------------------------------

def create(user):
    response = user.post(CREATE, json={})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return body["content_uri"][len("mxc://"):], body


def test_create_then_upload(client, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    before = int(time.time() * 1000)
    ref, body = create(alice)
    assert before + 23 * 3600 * 1000 < body["unused_expires_at"] <= before + 25 * 3600 * 1000
    response = bob.get(f"{DOWNLOAD}/{ref}?timeout_ms=0")
    assert response.status_code == 504
    assert response.get_json()["errcode"] == "M_NOT_YET_UPLOADED"
    response = alice.put(f"{UPLOAD}/{ref}?filename=a.txt", data=b"later",
                         headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert response.get_json() == {}
    response = bob.get(f"{DOWNLOAD}/{ref}")
    assert response.data == b"later"
    assert response.headers["Content-Disposition"] == 'inline; filename="a.txt"'
    again = alice.put(f"{UPLOAD}/{ref}", data=b"other")
    assert again.status_code == 409
    assert again.get_json()["errcode"] == "M_CANNOT_OVERWRITE_MEDIA"


def test_create_without_body(client, register_user):
    alice = register_user("alice")
    response = alice.post(CREATE)
    assert response.status_code == 200
    assert response.get_json()["content_uri"].startswith(f"mxc://{SERVER}/")


def test_upload_to_someone_elses_mxc_is_forbidden(client, register_user):
    alice, bob = register_user("alice"), register_user("bob")
    ref, _ = create(alice)
    response = bob.put(f"{UPLOAD}/{ref}", data=b"mine")
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"


def test_upload_to_unknown_mxc(client, register_user):
    alice = register_user("alice")
    for ref in (f"{SERVER}/nosuchmedia", f"example.org/nosuchmedia", f"{SERVER}/bad.id"):
        response = alice.put(f"{UPLOAD}/{ref}", data=b"x")
        assert response.status_code == 404, ref
        assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_expired_mxc(make_app, register_user_for, clock):
    app = make_app(media={"unused_expiration_ms": 1000})
    alice = register_user_for(app, "alice")
    ref, _ = create(alice)
    clock.advance(1_100)
    response = alice.put(f"{UPLOAD}/{ref}", data=b"x")
    assert response.status_code == 404
    assert alice.get(f"{DOWNLOAD}/{ref}?timeout_ms=0").status_code == 404


def test_pending_uploads_are_limited(make_app, register_user_for):
    app = make_app(media={"max_pending_uploads_per_user": 2})
    alice = register_user_for(app, "alice")
    first, _ = create(alice)
    create(alice)
    response = alice.post(CREATE, json={})
    assert response.status_code == 429
    assert response.get_json()["errcode"] == "M_LIMIT_EXCEEDED"
    assert response.get_json()["retry_after_ms"] > 0
    # Uploading one frees a slot.
    assert alice.put(f"{UPLOAD}/{first}", data=b"x").status_code == 200
    assert alice.post(CREATE, json={}).status_code == 200


def test_download_waits_for_the_upload(app, client, register_user, monkeypatch):
    alice, bob = register_user("alice"), register_user("bob")
    ref, _ = create(alice)
    result = {}
    found_no_content = threading.Event()
    lookup = repository._lookup

    def watched_lookup(media_id):
        row, quarantined = lookup(media_id)
        if row is not None and row.sha256 is None:
            found_no_content.set()
        return row, quarantined

    monkeypatch.setattr(repository, "_lookup", watched_lookup)

    def download_waiting():
        with app.test_client() as other:
            result["response"] = other.get(f"{DOWNLOAD}/{ref}?timeout_ms=20000",
                                           headers=bob.headers)

    waiter = threading.Thread(target=download_waiting)
    waiter.start()
    assert found_no_content.wait(30)  # the download has looked for the content: it waits now
    assert "response" not in result
    with app.test_client() as uploader:
        response = uploader.put(f"{UPLOAD}/{ref}", data=b"arrived", headers=alice.headers)
        assert response.status_code == 200
    waiter.join(timeout=30)
    assert result["response"].status_code == 200
    assert result["response"].data == b"arrived"


# --- legacy unauthenticated endpoints ---------------------------------------------------------

def test_legacy_download_is_frozen_by_default(client, register_user):
    ref = upload(register_user("alice"), b"new media", "text/plain")
    response = client.get(f"{LEGACY_DOWNLOAD}/{ref}")
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_NOT_FOUND"


def test_legacy_download_serves_media_from_before_the_cutoff(make_app, register_user_for):
    cutoff = int(time.time() * 1000) + 3_600_000
    app = make_app(media={"legacy_unauthenticated_cutoff_ts": cutoff})
    alice = register_user_for(app, "alice")
    ref = upload(alice, b"old media", "text/plain", "old.txt")
    anonymous = app.test_client()
    response = anonymous.get(f"{LEGACY_DOWNLOAD}/{ref}")
    assert response.status_code == 200
    assert response.data == b"old media"
    assert response.headers["Content-Disposition"] == 'inline; filename="old.txt"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert anonymous.get(f"{LEGACY_DOWNLOAD}/{ref}/new.txt").headers[
        "Content-Disposition"] == 'inline; filename="new.txt"'
    # After the cutoff the same server freezes newer uploads only.
    frozen = make_app(media={"legacy_unauthenticated_cutoff_ts": 1})
    assert frozen.test_client().get(f"{LEGACY_DOWNLOAD}/{ref}").status_code == 404


def test_legacy_download_without_freeze(make_app, register_user_for):
    app = make_app(media={"legacy_unauthenticated_cutoff_ts": None})
    ref = upload(register_user_for(app, "alice"), b"abc")
    assert app.test_client().get(f"{LEGACY_DOWNLOAD}/{ref}?allow_remote=false").data == b"abc"


def test_form_content_types_are_stored_as_raw_bytes(client, register_user):
    alice = register_user("alice")
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        body = b"a=1&b=2--x\r\n"
        ref = upload(alice, body, content_type)
        response = alice.get(f"{DOWNLOAD}/{ref}")
        assert response.data == body
        assert response.headers["Content-Type"] == content_type


def test_empty_upload_and_head_request(client, register_user):
    alice = register_user("alice")
    ref = upload(alice, b"", "text/plain")
    response = alice.get(f"{DOWNLOAD}/{ref}")
    assert response.status_code == 200 and response.data == b""
    full = upload(alice, b"0123456789", "text/plain")
    head = alice.head(f"{DOWNLOAD}/{full}") if hasattr(alice, "head") else alice.request(
        "HEAD", f"{DOWNLOAD}/{full}")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == "10"
    assert head.data == b""


def test_suspended_users_cannot_upload(app, client, register_user):
    from homeserver.models.users import User
    alice = register_user("alice")
    ref = upload(alice, b"before")
    with app.app_context():
        User.update(suspended=True).where(User.user_id == alice.user_id).execute()
    for response in (alice.post(UPLOAD, data=b"after"), alice.post(CREATE, json={})):
        assert response.status_code == 403
        assert response.get_json()["errcode"] == "M_USER_SUSPENDED"
    assert alice.get(f"{DOWNLOAD}/{ref}").data == b"before"  # reading stays allowed
