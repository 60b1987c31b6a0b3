"""Real gunicorn for end-to-end tests: this checkout served by ``gunicorn --config gunicorn.conf.py``
on a free port, with a generated configuration, on the test database.

How to use it in an end-to-end test (fixtures from tests/e2e/conftest.py)::

    def test_something(gunicorn_homeserver):    # a started server, default test configuration
        base = gunicorn_homeserver.base_url     # "http://127.0.0.1:<port>"
        gunicorn_homeserver.server_name         # "localhost:<port>" (user IDs end with it)

    def test_other(start_gunicorn):             # a factory, for configuration overrides
        server = start_gunicorn(registration={"require_token": True}, workers=1)
        server = start_gunicorn(access_log=True)  # gunicorn's access log in access_log_path
        server = start_gunicorn(gunicorn_args=["--threads", "4"])  # gunicorn options

Both run once per database backend (SQLite, then PostgreSQL on a scratch database), because they
use the ``database_url`` fixture of tests/conftest.py. Servers are stopped at the end of the test;
when one does not start, the test fails with the tail of its log. Without pytest::

    with GunicornServer(database_url, workdir) as server:
        requests.get(server.base_url + "/_matrix/client/versions")
"""

from __future__ import annotations

import importlib.metadata
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

# The configuration every e2e server starts from: open registration, no rate limits.
BASE_CONFIG = {
    "registration": {"enabled": True},
    "rate_limits": {"enabled": False},
    "log_level": "WARNING",
}

# A safety net only (no test asserts timings): a server that does not answer by then is broken.
STARTUP_GIVE_UP_S = 90


def _control_socket_args() -> list[str]:
    """gunicorn >= 25.1 opens a control socket at one per-user path: test servers must not take
    it from each other, nor from a server the developer runs with `make run`."""
    version = importlib.metadata.version("gunicorn").split(".")
    try:
        major, minor = int(version[0]), int(version[1])
    except (ValueError, IndexError):
        return []
    return ["--no-control-socket"] if (major, minor) >= (25, 1) else []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _merged(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def stop_process(process: subprocess.Popen) -> None:
    """TERM (gunicorn's graceful stop), then KILL if it does not end in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


class ServerFailed(RuntimeError):
    pass


class GunicornServer:
    """One gunicorn process tree serving the homeserver. ``config`` overrides BASE_CONFIG."""

    def __init__(self, database_url: str, workdir: Path, *, workers: int = 2,
                 access_log: bool = False, gunicorn_args: tuple[str, ...] | list[str] = (),
                 **config_overrides):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.server_name = f"localhost:{self.port}"
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.gunicorn_args = list(gunicorn_args)
        self.config_path = self.workdir / "homeserver.yaml"
        self.log_path = self.workdir / "server.log"
        # access_log=True: gunicorn's access log goes to this file (else nowhere).
        self.access_log_path = self.workdir / "access.log" if access_log else None
        self.config = _merged(BASE_CONFIG, {
            "server_name": self.server_name,
            "public_baseurl": self.base_url,
            "data_dir": str(self.workdir / "data"),
            "database": database_url,
        })
        self.config = _merged(self.config, config_overrides)
        self.process: subprocess.Popen | None = None

    def start(self) -> GunicornServer:
        self.config_path.write_text(yaml.safe_dump(self.config), encoding="utf-8")
        env = {**os.environ, "HOMESERVER_CONFIG": str(self.config_path)}
        # The caller's own overrides must not leak into the server under test.
        for name in list(env):
            if name.startswith("HOMESERVER_") and name != "HOMESERVER_CONFIG":
                del env[name]
        env.pop("GUNICORN_CMD_ARGS", None)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(GUNICORN), "--config", "gunicorn.conf.py",
                 "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                 "--access-logfile", str(self.access_log_path or "/dev/null"),
                 *_control_socket_args(), *self.gunicorn_args],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        give_up = time.monotonic() + STARTUP_GIVE_UP_S
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise ServerFailed(f"gunicorn exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                if requests.get(self.base_url + "/_matrix/client/versions", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"gunicorn did not answer on {self.base_url}:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
