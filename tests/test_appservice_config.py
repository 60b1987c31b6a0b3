"""Registration files of application services (``app_service_config_files``): checked at
startup, one line naming the file and the problem; ``homeserver appservice list``."""

import json
import os

import pytest
from click.testing import CliRunner

from appservice_support import registration, write_registration
from homeserver.cli import main
from homeserver.config import ConfigError, load_config


def load(paths, environ=None):
    return load_config(path=os.devnull, environ=environ or {},
                       overrides={"app_service_config_files": paths} if paths is not None
                       else None)


def test_a_good_registration_is_loaded(tmp_path):
    path = write_registration(tmp_path, registration("http://127.0.0.1:9000/",
                                                     protocols=["irc"], rate_limited=False,
                                                     **{"de.sorunome.msc2409.push_ephemeral":
                                                        True}))
    [service] = load([path]).app_services.services
    assert service.id == "bridge" and service.url == "http://127.0.0.1:9000"
    assert service.sender == "@_bridgebot:localhost:8008"
    assert service.protocols == ("irc",) and not service.rate_limited
    assert service.receive_ephemeral
    assert service.is_exclusive_user("@_bridge_x:localhost:8008")
    assert not service.is_interested_in_user("@x_bridge_x:localhost:8008")


def test_environment_names_the_files(tmp_path):
    path = write_registration(tmp_path, registration(None))
    config = load(None, {"HOMESERVER_APP_SERVICE_CONFIG_FILES": json.dumps([path])})
    assert [s.id for s in config.app_services.services] == ["bridge"]


@pytest.mark.parametrize("change, problem", [
    ({"as_token": None}, "'as_token' must be a non-empty string"),
    ({"url": "ftp://x"}, "'url' must be an http:// or https:// URL"),
    ({"sender_localpart": "bad localpart"}, "does not make a valid user ID"),
    ({"namespaces": {"users": [{"exclusive": True, "regex": "(unclosed"}]}},
     "'namespaces.users[0].regex' is not a valid regular expression"),
    ({"namespaces": {"users": [{"exclusive": "yes", "regex": "@a.*"}]}},
     "'namespaces.users[0].exclusive' must be true or false"),
    ({"rate_limited": "no"}, "'rate_limited' must be true or false"),
    ({"hs_token": "as-secret-token"}, "as_token and hs_token must differ"),
])
def test_bad_registrations_stop_startup(tmp_path, change, problem):
    data = {**registration("http://127.0.0.1:9000"), **change}
    path = write_registration(tmp_path, data)
    with pytest.raises(ConfigError) as failure:
        load([path])
    message = str(failure.value)
    assert "\n" not in message and path in message and problem in message


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="nothere.yaml: cannot read the file"):
        load([str(tmp_path / "nothere.yaml")])
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load([str(broken)])


@pytest.mark.parametrize("key", ["id", "as_token", "hs_token"])
def test_two_services_may_not_share_an_id_or_token(tmp_path, key):
    first = registration(None, id="one", as_token="a1", hs_token="h1")
    second = registration(None, id="two", as_token="a2", hs_token="h2")
    second[key] = first[key]
    paths = [write_registration(tmp_path, first, "one.yaml"),
             write_registration(tmp_path, second, "two.yaml")]
    with pytest.raises(ConfigError, match=f"two.yaml: its {key} is also the {key} of .*one.yaml"):
        load(paths)


def test_appservice_list(database_url, tmp_path, make_app):
    make_app()  # migrates and clears the database
    path = write_registration(tmp_path, registration("http://127.0.0.1:9"))
    config = tmp_path / "homeserver.yaml"
    config.write_text(f"server_name: localhost:8008\ndatabase: {database_url}\n"
                      f"data_dir: {tmp_path / 'data'}\napp_service_config_files: [{path}]\n")
    result = CliRunner().invoke(main, ["appservice", "list", "--json"],
                                env={"HOMESERVER_CONFIG": str(config)})
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    assert row["id"] == "bridge" and row["queued_transactions"] == 0
    assert row["last_success_ts"] is None and row["failing_since_ts"] is None
    text = CliRunner().invoke(main, ["appservice", "list"],
                              env={"HOMESERVER_CONFIG": str(config)})
    assert "bridge  http://127.0.0.1:9" in text.output and "last success: never" in text.output
