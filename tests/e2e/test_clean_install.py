"""A self-hoster's install: `pip install .` (no extras) into a fresh virtualenv, then the installed
`homeserver` command and gunicorn serve from a directory outside the checkout.

Nothing from the test virtualenv or the checkout is importable there, so a runtime import that
setup.cfg's install_requires lacks (as `requests` once was) makes the server fail to boot here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import venv

import pytest
import requests

from helpers.gunicorn_server import REPO_ROOT, free_port, stop_process

STARTUP_GIVE_UP_S = 90


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean-install")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    build = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(REPO_ROOT)],
        capture_output=True, text=True, cwd=root)
    if build.returncode != 0:
        pytest.fail(f"pip install . failed:\n{build.stdout[-3000:]}\n{build.stderr[-3000:]}")
    return root


def _clean_env(workdir) -> dict:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("HOMESERVER_", "PYTHON", "VIRTUAL_ENV", "GUNICORN_"))}
    env["HOMESERVER_CONFIG"] = str(workdir / "homeserver.yaml")
    return env


def test_pip_install_without_extras_boots_gunicorn(installed_venv):
    bin_dir = installed_venv / "venv" / "bin"
    workdir = installed_venv / "site"
    workdir.mkdir()
    env = _clean_env(workdir)
    port = free_port()
    for command in (["generate-config", "--server-name", f"localhost:{port}",
                     "--data-dir", str(workdir / "data")], ["migrate"]):
        done = subprocess.run([str(bin_dir / "homeserver"), *command], cwd=workdir, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "--worker-class", "gthread", "--threads", "4", "homeserver.app:create_app()"],
            cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        give_up = time.monotonic() + STARTUP_GIVE_UP_S
        answered = None
        while time.monotonic() < give_up and server.poll() is None:
            try:
                answered = requests.get(base + "/_matrix/client/versions", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert answered is not None and answered.status_code == 200, log_path.read_text()
        assert "versions" in answered.json()
        # A request that goes through the database and the account services.
        register = requests.post(base + "/_matrix/client/v3/register", json={})
        assert register.status_code in (401, 403), register.text
        assert "errcode" in register.json() or "flows" in register.json()
        # The pages (templates/) came with the install.
        landing = requests.get(base + "/")
        assert landing.status_code == 200 and "text/html" in landing.headers["Content-Type"]
        fallback = requests.get(base + "/_matrix/client/v3/auth/m.login.dummy/fallback/web",
                                params={"session": "unknown"})
        assert fallback.status_code != 500, fallback.text
        assert "Traceback" not in log_path.read_text()
    finally:
        stop_process(server)


def test_installed_package_is_not_the_checkout(installed_venv):
    """The check above is only worth something if the installed copy is what ran."""
    python = installed_venv / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import homeserver; print(homeserver.__file__)"],
                           cwd=installed_venv, capture_output=True, text=True,
                           env=_clean_env(installed_venv))
    assert where.returncode == 0, where.stderr
    assert str(REPO_ROOT) not in where.stdout
    assert sys.prefix not in where.stdout


def test_installed_command_reports_its_version(installed_venv):
    from homeserver import __version__

    done = subprocess.run([str(installed_venv / "venv" / "bin" / "homeserver"), "--version"],
                          capture_output=True, text=True, env=_clean_env(installed_venv))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"homeserver, version {__version__}"
