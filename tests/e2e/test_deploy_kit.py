"""docs/deploy/: gunicorn started exactly as the systemd unit's ExecStart line (with its
Environment) serves the homeserver; the nginx file is the README's tested block."""

from __future__ import annotations

import os
import shlex
import subprocess
import time

import requests
import yaml

from helpers.gunicorn_server import (BASE_CONFIG, GUNICORN, REPO_ROOT, STARTUP_GIVE_UP_S,
                             _control_socket_args, free_port, stop_process)
from helpers.nginx_server import readme_nginx_server_block

DEPLOY = REPO_ROOT / "docs" / "deploy"
# Where the unit expects things, and where they are in this test.
CHECKOUT = "/opt/homeserver"
CONFIG = "/etc/homeserver/homeserver.yaml"


def unit_service_section() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    # systemd allows a key more than once (SystemCallFilter=...): keep every value.
    for line in (DEPLOY / "homeserver.service").read_text().split("[Service]", 1)[1].split(
            "\n[", 1)[0].splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def test_unit_has_restart_and_hardening():
    service = unit_service_section()
    assert service["Restart"] == ["on-failure"]
    for key in ("NoNewPrivileges", "PrivateTmp", "ProtectHome", "ProtectKernelTunables"):
        assert service[key] == ["yes"], key
    assert service["ProtectSystem"] == ["strict"]
    assert service["User"] == ["homeserver"]
    # The one writable path holds what the configuration writes (data_dir, SQLite).
    assert service["ReadWritePaths"] == service["WorkingDirectory"] == ["/var/lib/homeserver"]


def test_gunicorn_as_the_unit_starts_it_serves(database_url, tmp_path):
    service = unit_service_section()
    (exec_start,) = service["ExecStart"]
    argv = [arg.replace(CHECKOUT + "/.venv/bin/gunicorn", str(GUNICORN))
               .replace(CHECKOUT, str(REPO_ROOT)) for arg in shlex.split(exec_start)]
    assert argv[0] == str(GUNICORN) and "--config" in argv
    port = free_port()
    config_path = tmp_path / "homeserver.yaml"
    config_path.write_text(yaml.safe_dump({
        **BASE_CONFIG, "server_name": f"localhost:{port}", "database": database_url,
        "data_dir": str(tmp_path / "data")}))
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("HOMESERVER_", "GUNICORN_"))}
    for assignment in service.get("Environment", []):
        name, _, value = assignment.partition("=")
        env[name] = value.replace(CONFIG, str(config_path))
    assert env["HOMESERVER_CONFIG"] == str(config_path)
    # Only the address differs from production: gunicorn's documented override.
    env["GUNICORN_CMD_ARGS"] = shlex.join([f"--bind=127.0.0.1:{port}", "--workers=1",
                                           *_control_socket_args()])
    workdir = tmp_path / "state"  # the unit's WorkingDirectory
    workdir.mkdir()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(argv, cwd=workdir, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        give_up = time.monotonic() + STARTUP_GIVE_UP_S
        health = None
        while health is None and time.monotonic() < give_up and server.poll() is None:
            try:
                health = requests.get(base + "/health", timeout=2)
            except requests.RequestException:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, log_path.read_text()
        versions = requests.get(base + "/_matrix/client/versions", timeout=10)
        assert versions.status_code == 200 and "versions" in versions.json()
        registered = requests.post(base + "/_matrix/client/v3/register", timeout=10, json={
            "username": "deployed", "password": "pw 123 456", "auth": {"type": "m.login.dummy"}})
        assert registered.status_code == 200, registered.text
    finally:
        stop_process(server)
    assert "Traceback" not in log_path.read_text()


def test_nginx_file_is_the_readme_block():
    block = readme_nginx_server_block().strip()
    text = (DEPLOY / "nginx.conf").read_text()
    assert block in text, "docs/deploy/nginx.conf differs from the README's block"
    header, _, rest = text.partition(block)
    assert rest.strip() == ""
    assert all(line.startswith("#") for line in header.strip().splitlines())
