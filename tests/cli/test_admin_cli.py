"""`homeserver users ...`, `homeserver rooms ...` and `homeserver backup`, checked against what
clients and the admin API then see; a backup restored and booted keeps what it held."""

import os
import shutil

import pytest
from click.testing import CliRunner

from homeserver import db
from homeserver.app import create_app
from homeserver.cli import main
from homeserver.config import load_config
from homeserver.services import workers
from helpers.database import release_connections
from helpers.api import ok
from helpers.rooms import create_room, send_ok
from helpers.synapse_admin import SYNAPSE, make_admin, q
from helpers.user_handle import UserHandle

V3 = "/_matrix/client/v3"


def _runner(config_path):
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), env={"HOMESERVER_CONFIG": str(config_path)},
                             input=input)

    return run


@pytest.fixture
def cli(database_url, tmp_path):
    config = tmp_path / "homeserver.yaml"
    config.write_text(f"server_name: localhost:8008\ndatabase: {database_url}\n"
                      f"data_dir: {tmp_path / 'data'}\n")
    return _runner(config)


def login(client, localpart, password):
    return client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": localpart},
        "password": password})


def test_users_commands(app, client, register_user, cli):
    alice = register_user("alice")
    register_user("bob")
    listed = cli("users", "list")
    assert listed.exit_code == 0, listed.output
    assert "@alice:localhost:8008  alice" in listed.output
    assert "2 of 2 account(s)" in listed.output
    assert "@alice:localhost:8008" in cli("users", "list", "--name", "ALI", "--json").output

    result = cli("users", "reset-password", "@alice:localhost:8008", "--password", "new pass 1")
    assert result.exit_code == 0, result.output
    assert alice.get(f"{V3}/account/whoami").status_code == 401
    assert login(client, "alice", "new pass 1").status_code == 200

    result = cli("users", "make-admin", "@alice:localhost:8008")
    assert result.exit_code == 0 and "is a server admin" in result.output
    token = ok(login(client, "alice", "new pass 1"))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{SYNAPSE}/v2/users", headers=headers).status_code == 200
    assert "admin" in cli("users", "list", "--admins").output
    cli("users", "make-admin", "@alice:localhost:8008", "--revoke")
    assert client.get(f"{SYNAPSE}/v2/users", headers=headers).status_code == 403

    result = cli("users", "deactivate", "@bob:localhost:8008", "--yes")
    assert result.exit_code == 0, result.output
    assert login(client, "bob", "correct horse battery").status_code == 403
    assert "@bob" not in cli("users", "list").output
    assert "deactivated" in cli("users", "list", "--deactivated").output

    missing = cli("users", "make-admin", "@ghost:localhost:8008")
    assert missing.exit_code != 0 and "User not found" in missing.output
    remote = cli("users", "deactivate", "@x:elsewhere.org", "--yes")
    assert remote.exit_code != 0 and "local users" in remote.output


def test_rooms_commands(app, register_user, cli):
    alice, bob = register_user("alice"), register_user("bob")
    room = create_room(alice, name="Town square", preset="public_chat", room_alias_name="town")
    ok(bob.post(f"{V3}/join/{q(room)}"))
    listed = cli("rooms", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{room}       2 members  Town square  #town:localhost:8008" in listed.output
    assert "1 of 1 room(s)" in cli("rooms", "list", "--search", "square").output
    assert "0 of 0 room(s)" in cli("rooms", "list", "--search", "nothing").output

    result = cli("rooms", "delete", room, "--block", "--yes")
    assert result.exit_code == 0, result.output
    assert "complete: 2 member(s) left, 0 could not, aliases removed: #town:localhost:8008" \
        in result.output
    assert room not in ok(bob.get(f"{V3}/joined_rooms"))["joined_rooms"]
    root = make_admin(app, register_user("root"))
    assert ok(root.get(f"{SYNAPSE}/v1/rooms/{q(room)}/block")) == {"block": True}
    missing = cli("rooms", "delete", "!nope:localhost:8008", "--yes")
    assert missing.exit_code != 0 and "Room not found" in missing.output


def _boot(path, data_dir):
    config = load_config(path=os.devnull, environ={}, overrides={
        "server_name": "localhost:8008", "database": str(path), "data_dir": str(data_dir),
        "registration": {"enabled": True}, "rate_limits": {"enabled": False}})
    db.init_database(config.database_url, 4)
    db.migrate()
    app = create_app(config)
    app.testing = True
    return app


def _stop():
    assert not workers.stop_all(timeout_s=15.0)
    database = db.database.obj
    release_connections(database)
    database.close_all()


def test_backup_then_restore_boots_with_the_data(tmp_path):
    live = tmp_path / "live" / "homeserver.db"
    app = _boot(live, tmp_path / "data")
    client = app.test_client()
    try:
        registered = ok(client.post(f"{V3}/register", json={
            "username": "alice", "password": "pw one two", "auth": {"type": "m.login.dummy"}}))
        alice = UserHandle(client, registered["user_id"], registered["access_token"],
                           registered["device_id"], "pw one two")
        room = create_room(alice, name="Kept")
        send_ok(alice, room, "before the backup")

        config = tmp_path / "homeserver.yaml"
        config.write_text(f"server_name: localhost:8008\ndatabase: {live}\n"
                          f"data_dir: {tmp_path / 'data'}\n")
        run = _runner(config)
        copy = tmp_path / "backups" / "homeserver-backup.db"
        os.makedirs(copy.parent)
        # Online: the server holds connections (and the WAL) while the copy is made.
        result = run("backup", str(copy))
        assert result.exit_code == 0, result.output
        assert f"wrote {copy}" in result.output
        again = run("backup", str(copy))
        assert again.exit_code != 0 and "already exists" in again.output
        # Written after the backup: not in it.
        send_ok(alice, room, "after the backup")
    finally:
        _stop()

    # Restore as the README says: stopped server, the copy over the database, no stale WAL.
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{live}{suffix}"):
            os.unlink(f"{live}{suffix}")
    shutil.copy(copy, live)
    app = _boot(live, tmp_path / "data")
    client = app.test_client()
    try:
        token = ok(client.post(f"{V3}/login", json={
            "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "alice"},
            "password": "pw one two"}))["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        messages = ok(client.get(f"{V3}/rooms/{q(room)}/messages?dir=b&limit=50",
                                 headers=headers))["chunk"]
        bodies = [e["content"].get("body") for e in messages if e["type"] == "m.room.message"]
        assert bodies == ["before the backup"]
        assert ok(client.get(f"{V3}/rooms/{q(room)}/state/m.room.name/",
                             headers=headers)) == {"name": "Kept"}
    finally:
        _stop()


def test_backup_of_postgres_gives_the_pg_dump_advice(tmp_path):
    config = tmp_path / "homeserver.yaml"
    config.write_text("server_name: localhost:8008\n"
                      "database: postgresql://postgres@127.0.0.1:5432/homeserver\n"
                      f"data_dir: {tmp_path / 'data'}\n")
    result = _runner(config)("backup", str(tmp_path / "copy.db"))
    assert result.exit_code != 0
    assert "pg_dump --format=custom" in result.output and "pg_restore" in result.output
    assert not os.path.exists(tmp_path / "copy.db")
