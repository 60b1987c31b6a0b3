"""The `homeserver registration-token` commands, checked against what clients then see."""

import pytest
from click.testing import CliRunner

from homeserver.cli import main

VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity"
REGISTER = "/_matrix/client/v3/register"


@pytest.fixture
def token_client(make_app):
    return make_app(registration={"enabled": True, "require_token": True}).test_client()


@pytest.fixture
def cli(database_url, tmp_path):
    config = tmp_path / "homeserver.yaml"
    config.write_text(f"server_name: localhost:8008\ndatabase: {database_url}\n"
                      f"data_dir: {tmp_path / 'data'}\n")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, ["registration-token", *args],
                             env={"HOMESERVER_CONFIG": str(config)})

    return run


def register_with(client, username, token):
    session = client.post(REGISTER, json={"username": username, "password": "pw"}
                          ).get_json()["session"]
    return client.post(REGISTER, json={"username": username, "password": "pw", "auth": {
        "type": "m.login.registration_token", "token": token, "session": session}})


def test_create_list_use_delete(token_client, cli):
    assert cli("list").output.strip() == "no registration tokens"

    created = cli("create", "--token", "Friends-2024", "--uses-allowed", "2",
                  "--expiry-days", "3")
    assert created.exit_code == 0, created.output
    assert created.output.strip() == "Friends-2024"
    assert token_client.get(VALIDITY + "?token=Friends-2024").get_json() == {"valid": True}

    assert register_with(token_client, "amy", "Friends-2024").status_code == 200
    listing = cli("list")
    assert listing.exit_code == 0
    line = [row for row in listing.output.splitlines() if row.startswith("Friends-2024")][0]
    assert "1/2" in line and "UTC" in line and "valid" in line

    deleted = cli("delete", "Friends-2024")
    assert deleted.exit_code == 0 and "deleted" in deleted.output
    assert token_client.get(VALIDITY + "?token=Friends-2024").get_json() == {"valid": False}
    assert register_with(token_client, "bob", "Friends-2024").status_code == 401
    again = cli("delete", "Friends-2024")
    assert again.exit_code != 0 and "no registration token" in again.output


def test_random_tokens(token_client, cli):
    created = cli("create", "--length", "20")
    assert created.exit_code == 0
    token = created.output.strip()
    assert len(token) == 20 and token.isalnum()
    line = [row for row in cli("list").output.splitlines() if row.startswith(token)][0]
    assert "0/unlimited" in line and "never" in line
    assert register_with(token_client, "cat", token).status_code == 200


def test_used_up_token_is_listed_as_such(token_client, cli):
    cli("create", "--token", "single", "--uses-allowed", "1")
    assert register_with(token_client, "dan", "single").status_code == 200
    line = [row for row in cli("list").output.splitlines() if row.startswith("single")][0]
    assert "1/1" in line and "used up or expired" in line


@pytest.mark.parametrize("args,message", [
    (["--token", "has space"], "a token is 1 to 64 characters"),
    (["--token", "x" * 65], "a token is 1 to 64 characters"),
    (["--length", "0"], "Invalid value"),
    (["--uses-allowed", "-1"], "Invalid value"),
    (["--expiry-days", "0"], "Invalid value"),
])
def test_bad_options(token_client, cli, args, message):
    result = cli("create", *args)
    assert result.exit_code != 0
    assert message in result.output


def test_duplicate_token(token_client, cli):
    assert cli("create", "--token", "dup").exit_code == 0
    result = cli("create", "--token", "dup")
    assert result.exit_code != 0 and "already exists" in result.output
