"""`homeserver media ...`: list, delete, purge, quarantine and usage, observed over HTTP."""

import hashlib
import json
import os

import pytest
from click.testing import CliRunner

from homeserver import clock as server_clock
from homeserver import db
from homeserver.cli import main
from homeserver.models.media import Media
from helpers.database import release_connections
from helpers.media import DOWNLOAD, UPLOAD, media_files, upload

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def cli(app, database_url, tmp_path, monkeypatch):
    """Run `homeserver ...` against the test app's database and data directory."""
    config_path = tmp_path / "homeserver.yaml"
    config_path.write_text(json.dumps({
        "server_name": "localhost:8008", "database": database_url,
        "data_dir": app.config["HOMESERVER"].data_dir}))
    monkeypatch.setenv("HOMESERVER_CONFIG", str(config_path))

    def run(*args):
        saved = db.database.obj
        try:
            result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        finally:
            if db.database.obj is not saved:
                release_connections(db.database.obj)
                db.database.initialize(saved)
        return result

    return run


def status(user, ref):
    return user.get(f"{DOWNLOAD}/{ref}").status_code


def test_list_media_by_user(client, register_user, cli):
    alice, bob = register_user("alice"), register_user("bob")
    mine = {upload(alice, b"one", "text/plain", "one.txt"), upload(alice, b"two")}
    upload(bob, b"three")
    result = cli("media", "list", "--user", alice.user_id, "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {row["mxc"][len("mxc://"):] for row in rows} == mine
    assert all(row["user_id"] == alice.user_id for row in rows)
    text = cli("media", "list").output
    assert "one.txt" in text and bob.user_id in text


def test_delete_keeps_bytes_another_item_uses(app, client, register_user, cli):
    alice, bob = register_user("alice"), register_user("bob")
    data = os.urandom(5000)
    first, second = upload(alice, data), upload(bob, data)
    result = cli("media", "delete", f"mxc://{first}")
    assert result.exit_code == 0, result.output
    assert status(alice, first) == 404
    assert bob.get(f"{DOWNLOAD}/{second}").data == data
    assert len(media_files(app)) == 1
    assert cli("media", "delete", second.split("/")[1]).exit_code == 0
    assert status(bob, second) == 404
    assert media_files(app) == []
    assert cli("media", "delete", "mxc://example.org/abc").exit_code != 0


def test_delete_removes_thumbnails(app, client, register_user, cli):
    from helpers.media import THUMBNAIL, image_bytes
    alice = register_user("alice")
    ref = upload(alice, image_bytes(300, 300), "image/png")
    assert alice.get(f"{THUMBNAIL}/{ref}?width=32&height=32&method=crop").status_code == 200
    assert media_files(app, "thumbnails")
    cli("media", "delete", f"mxc://{ref}")
    assert media_files(app, "thumbnails") == []


def _age(ref, *, uploaded_days_ago, read_days_ago=None):
    now = server_clock.now_ms()
    media_id = ref.split("/", 1)[1]
    uploaded = now - uploaded_days_ago * DAY_MS
    Media.update(uploaded_ts=uploaded, created_ts=uploaded,
                 last_access_ts=None if read_days_ago is None else now - read_days_ago * DAY_MS
                 ).where(Media.media_id == media_id).execute()


def test_purge_by_age_and_by_last_access(app, client, register_user, cli):
    alice = register_user("alice")
    old_unread = upload(alice, b"old, never read")
    old_read = upload(alice, b"old, read yesterday")
    recent = upload(alice, b"recent")
    with app.app_context():
        _age(old_unread, uploaded_days_ago=40)
        _age(old_read, uploaded_days_ago=40, read_days_ago=1)
    result = cli("media", "purge", "--not-accessed-for", "30")
    assert result.exit_code == 0, result.output
    assert "deleted 1 media item(s)" in result.output
    assert status(alice, old_unread) == 404
    assert status(alice, old_read) == 200
    assert cli("media", "purge", "--older-than", "30").exit_code == 0
    assert status(alice, old_read) == 404
    assert status(alice, recent) == 200
    assert len(media_files(app)) == 1


def test_purge_drops_expired_reservations(make_app, register_user, cli):
    app = make_app(media={"unused_expiration_ms": 1000})
    alice = register_user("alice")
    from helpers.user_handle import UserHandle
    alice = UserHandle(app.test_client(), alice.user_id, alice.access_token, alice.device_id, "")
    ref = alice.post("/_matrix/media/v1/create").get_json()["content_uri"][len("mxc://"):]
    Media.update(unused_expires_ts=server_clock.now_ms() - 1).where(
        Media.media_id == ref.split("/")[1]).execute()
    result = cli("media", "purge")
    assert "dropped 1 expired reservation(s)" in result.output
    assert cli("media", "list", "--json").output == ""


def test_quarantine(client, register_user, cli):
    alice, bob = register_user("alice"), register_user("bob")
    data = b"something nasty"
    ref, copy = upload(alice, data), upload(bob, data)
    result = cli("media", "quarantine", f"mxc://{ref}")
    assert result.exit_code == 0, result.output
    assert status(alice, ref) == 404
    assert status(bob, copy) == 404  # every copy of the bytes
    response = bob.post(UPLOAD, data=data)
    assert response.status_code == 403
    assert response.get_json()["errcode"] == "M_FORBIDDEN"
    assert cli("media", "purge", "--older-than", "0").exit_code == 0
    assert cli("media", "quarantine", "--undo", f"mxc://{ref}").exit_code == 0
    assert alice.get(f"{DOWNLOAD}/{ref}").data == data
    assert status(bob, copy) == 200
    assert cli("media", "quarantine", "mxc://localhost:8008/nosuch").exit_code != 0


def test_usage(client, register_user, cli):
    alice, bob = register_user("alice"), register_user("bob")
    big = os.urandom(20_000)
    upload(alice, big)
    upload(alice, big)
    upload(bob, b"small")
    report = json.loads(cli("media", "usage", "--json").output)
    assert report["media_items"] == 3
    assert report["uploaded_bytes"] == 40_005
    assert report["stored_files"] == 2
    assert report["stored_bytes"] == 20_005
    assert report["disk"]["content"] == {"bytes": 20_005, "files": 2}
    assert report["top_users"][0] == {"user_id": alice.user_id, "media_items": 2, "bytes": 40_000}
    text = cli("media", "usage").output
    assert "media items:        3" in text and alice.user_id in text
    assert hashlib.sha256(big).hexdigest()  # content-addressed: one file for both uploads
