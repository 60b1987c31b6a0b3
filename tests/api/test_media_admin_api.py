"""Media administration over HTTP (/_homeserver/admin/v1/...): admins only."""

import pytest

from helpers.accounts import make_admin
from helpers.media import DOWNLOAD, THUMBNAIL, image_bytes, media_files, upload

ADMIN = "/_homeserver/admin/v1"


@pytest.fixture
def admin_user(register_user):
    return make_admin(register_user("root"))


def test_non_admins_are_refused(client, register_user):
    alice = register_user("alice")
    ref = upload(alice, b"data")
    for method, path in (("GET", f"{ADMIN}/media/usage"),
                         ("GET", f"{ADMIN}/users/{alice.user_id}/media"),
                         ("DELETE", f"{ADMIN}/media/{ref}"),
                         ("POST", f"{ADMIN}/media/{ref}/quarantine"),
                         ("POST", f"{ADMIN}/media/purge")):
        response = alice.request(method, path)
        assert response.status_code == 403, path
        assert response.get_json()["errcode"] == "M_FORBIDDEN"
        assert client.open(path, method=method).status_code == 401
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 200


def test_list_and_usage(client, register_user, admin_user):
    alice = register_user("alice")
    ref = upload(alice, b"x" * 100, "text/plain", "notes.txt")
    upload(alice, b"x" * 100)
    listed = admin_user.get(f"{ADMIN}/users/{alice.user_id}/media").get_json()["media"]
    assert len(listed) == 2
    assert {m["mxc"] for m in listed} >= {f"mxc://{ref}"}
    assert any(m["upload_name"] == "notes.txt" and m["size"] == 100 for m in listed)
    assert admin_user.get(f"{ADMIN}/users/{alice.user_id}/media?limit=1").get_json()["media"][0]
    usage = admin_user.get(f"{ADMIN}/media/usage").get_json()
    assert usage["media_items"] == 2
    assert usage["uploaded_bytes"] == 200
    assert usage["stored_bytes"] == 100
    assert usage["top_users"] == [{"user_id": alice.user_id, "media_items": 2, "bytes": 200}]
    assert admin_user.get(f"{ADMIN}/users/not-a-user/media").status_code == 400


def test_delete_and_quarantine(app, client, register_user, admin_user):
    alice = register_user("alice")
    ref = upload(alice, image_bytes(200, 200), "image/png")
    assert alice.get(f"{THUMBNAIL}/{ref}?width=32&height=32&method=crop").status_code == 200
    response = admin_user.post(f"{ADMIN}/media/{ref}/quarantine", json={})
    assert response.get_json() == {"quarantined": True}
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 404
    assert alice.get(f"{THUMBNAIL}/{ref}?width=32&height=32").status_code == 404
    admin_user.post(f"{ADMIN}/media/{ref}/quarantine", json={"quarantined": False})
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 200
    assert admin_user.post(f"{ADMIN}/media/{ref}/quarantine",
                           json={"quarantined": "no"}).status_code == 400
    response = admin_user.delete(f"{ADMIN}/media/{ref}")
    assert response.get_json() == {"deleted": 1, "files_removed": 1}
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 404
    assert media_files(app) == [] and media_files(app, "thumbnails") == []
    assert admin_user.delete(f"{ADMIN}/media/{ref}").status_code == 404
    assert admin_user.delete(f"{ADMIN}/media/example.org/abc").status_code == 404


def test_purge(client, register_user, admin_user):
    alice = register_user("alice")
    ref = upload(alice, b"old")
    response = admin_user.post(f"{ADMIN}/media/purge", json={"older_than_days": 1})
    assert response.get_json()["deleted"] == 0
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 200
    response = admin_user.post(f"{ADMIN}/media/purge", json={"older_than_days": 0})
    assert response.get_json()["deleted"] == 1
    assert alice.get(f"{DOWNLOAD}/{ref}").status_code == 404
    for bad in ({"older_than_days": -1}, {"older_than_days": "3"}, {"not_accessed_for_days": True}):
        response = admin_user.post(f"{ADMIN}/media/purge", json=bad)
        assert response.status_code == 400
        assert response.get_json()["errcode"] == "M_BAD_JSON"
