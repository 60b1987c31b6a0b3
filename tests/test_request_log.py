"""One access line per request (logger homeserver.access) with a request ID that is also the
X-Request-Id response header; no log line ever carries an access token, a password or a key."""

import json
import logging

import pytest
from flask import Blueprint

from homeserver.config import ConfigError, load_config
from homeserver.log_format import JsonFormatter, TextFormatter
from sync_support import V3, create_room, ok
from user_handle import UserHandle

ACCESS = "homeserver.access"


def access_records(caplog):
    return [r for r in caplog.records if r.name == ACCESS]


def test_every_response_has_a_fresh_request_id(client):
    first = client.get("/_matrix/client/versions").headers["X-Request-Id"]
    second = client.get("/_matrix/client/versions",
                        headers={"X-Request-Id": "client-chosen"}).headers["X-Request-Id"]
    missing = client.get("/no/such/path").headers["X-Request-Id"]
    assert len({first, second, missing}) == 3
    assert "client-chosen" not in (first, second, missing)


def test_access_line_names_request_user_device_endpoint_status_duration(client, register_user,
                                                                        caplog):
    alice = register_user("alice")
    caplog.set_level(logging.INFO, logger=ACCESS)
    caplog.clear()
    response = alice.get(f"{V3}/account/whoami?x=secretish")
    [record] = access_records(caplog)
    line = record.getMessage()
    assert f"request_id={response.headers['X-Request-Id']} " in line
    assert "method=GET endpoint=login.whoami path=/_matrix/client/v3/account/whoami " in line
    assert "status=200 " in line and "duration_ms=" in line
    assert f"user={alice.user_id} device={alice.device_id} " in line
    assert "secretish" not in line  # the query string is never logged
    assert "\n" not in line

    caplog.clear()
    client.get("/_matrix/client/v3/x%0Ainjected=1 y")
    [record] = access_records(caplog)
    assert "\n" not in record.getMessage() and " y " not in record.getMessage()
    assert "user=- device=-" in record.getMessage()


def test_json_format_has_the_fields(client, caplog):
    caplog.set_level(logging.INFO, logger=ACCESS)
    response = client.get("/_matrix/client/versions")
    [record] = access_records(caplog)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["logger"] == ACCESS and data["level"] == "INFO"
    assert data["request_id"] == response.headers["X-Request-Id"]
    assert data["endpoint"] == "versions.versions" and data["status"] == 200
    assert isinstance(data["duration_ms"], float) and data["user"] is None


def test_log_format_config_key(tmp_path):
    path = str(tmp_path / "none.yaml")
    assert load_config(path, environ={}).log_format == "text"
    assert load_config(path, environ={"HOMESERVER_LOG_FORMAT": "json"}).log_format == "json"
    with pytest.raises(ConfigError, match="log_format"):
        load_config(path, environ={"HOMESERVER_LOG_FORMAT": "xml"})


def test_no_token_password_or_key_is_ever_logged(client, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, SQL statements included
    password = "Pa55word-never-logged-1"
    new_password = "Pa55word-never-logged-2"
    registered = ok(client.post(f"{V3}/register", json={
        "username": "carol", "password": password, "auth": {"type": "m.login.dummy"},
        "refresh_token": True}))
    token = registered["access_token"]
    secrets = [password, new_password, token, registered["refresh_token"]]
    header = {"Authorization": f"Bearer {token}"}

    logged_in = ok(client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"},
        "password": password}))
    secrets.append(logged_in["access_token"])
    ok(client.get(f"{V3}/sync", headers=header))
    ok(client.get(f"{V3}/account/whoami?access_token={token}"))
    create_room(UserHandle(client, registered["user_id"], token, registered["device_id"],
                           password))
    assert client.get(f"{V3}/account/whoami?access_token=bad-{token}").status_code == 401
    assert client.get(f"{V3}/no/such/thing?access_token={token}").status_code == 404
    assert client.post(f"{V3}/login", json={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": "carol"},
        "password": f"wrong-{password}"}).status_code == 403
    refreshed = ok(client.post(f"{V3}/refresh",
                               json={"refresh_token": registered["refresh_token"]}))
    secrets += [refreshed["access_token"], refreshed["refresh_token"]]
    header = {"Authorization": f"Bearer {refreshed['access_token']}"}
    ok(client.post(f"{V3}/account/password", headers=header, json={
        "new_password": new_password,
        "auth": {"type": "m.login.password", "password": password,
                 "identifier": {"type": "m.id.user", "user": "carol"}}}))
    client.get(f"{V3}/register/m.login.registration_token/validity?token=tok-{token}")
    client.get(f"/_matrix/client/v1/register/m.login.registration_token/validity?token=k-{token}")

    assert len(access_records(caplog)) >= 10
    everything = caplog.text + "\n".join(
        str(r.args) + JsonFormatter().format(r) for r in caplog.records)
    for secret in secrets:
        assert secret not in everything


def test_development_server_request_lines_lose_query_secrets(client, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    logging.getLogger("werkzeug").info(
        '%s - - "%s" %s', "127.0.0.1", "GET /sync?since=s1&access_token=syt_abc HTTP/1.1", 200)
    assert "syt_abc" not in caplog.text and "since=s1&access_token=<redacted>" in caplog.text


def test_an_error_logged_during_a_request_carries_its_request_id(make_app, caplog):
    app = make_app()
    crash = Blueprint("crash_test", __name__)

    @crash.get("/_test/crash")
    def crashing():
        raise RuntimeError("boom")

    app.register_blueprint(crash)
    caplog.set_level(logging.INFO)
    response = app.test_client().get("/_test/crash")
    assert response.status_code == 500
    request_id = response.headers["X-Request-Id"]
    [error] = [r for r in caplog.records if r.name == "homeserver.errors"]
    assert error.request_id == request_id
    text = TextFormatter().format(error)
    assert text.splitlines()[0].endswith(f"unhandled exception [request_id={request_id}]")
    assert "RuntimeError: boom" in text
    assert json.loads(JsonFormatter().format(error))["request_id"] == request_id
    # Outside a request: no ID.
    logging.getLogger("homeserver.test").warning("not in a request")
    assert "request_id" not in TextFormatter().format(caplog.records[-1])
