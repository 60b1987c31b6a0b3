"""Real nginx for end-to-end tests, configured with README.md's "Behind nginx" example.

The ``server { ... }`` block is read from the README at test time, so the test checks what the
README documents. Only what a test cannot have is adapted: the ``listen`` line (a loopback port,
no TLS), the ``ssl_*`` lines, and ``proxy_pass`` (the test's gunicorn instead of port 8008).
and the path of an ``access_log`` (the test's work directory; its format stays). Everything else
(log_format, locations, proxy headers, timeouts, body size) is used as written.

nginx runs as a child process in the foreground (``-g 'daemon off;'``) with its pid file, logs and
temporary files in a work directory, so neither root nor the system nginx service is involved::

    block = readme_nginx_server_block()
    with NginxServer(block, workdir, upstream_port=gunicorn.port) as nginx:
        requests.get(nginx.base_url + "/_matrix/client/versions")
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from pathlib import Path

import requests

from helpers.gunicorn_server import REPO_ROOT, ServerFailed, free_port

README = REPO_ROOT / "README.md"
README_UPSTREAM = "http://127.0.0.1:8008"

# A safety net only (no test asserts timings): an nginx that does not answer by then is broken.
STARTUP_GIVE_UP_S = 30


def nginx_binary() -> str | None:
    """The nginx executable (Debian installs it in /usr/sbin, often not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def readme_nginx_server_block() -> str:
    """The ```nginx fenced block of README.md's "Behind nginx" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Behind nginx", 1)
    if len(section) != 2:
        raise ValueError('README.md has no "## Behind nginx" section')
    fenced = re.search(r"```nginx\n(.*?)```", section[1], re.S)
    if fenced is None:
        raise ValueError('README.md\'s "Behind nginx" section has no ```nginx block')
    return fenced.group(1)


def directive_values(block: str, name: str) -> list[str]:
    """The arguments of every ``name ...;`` directive in ``block`` (comments ignored)."""
    values = []
    for line in block.splitlines():
        code = line.split("#", 1)[0].strip()
        if code.startswith(name + " ") and code.endswith(";"):
            values.append(code[len(name):-1].strip())
    return values


def adapt_for_test(block: str, *, listen: str, upstream: str,
                   access_log: str | None = None) -> str:
    """``block`` with its listen address, TLS, upstream and access log path replaced; nothing
    else changes.
    Raises ValueError when the block no longer has the shape this adaptation expects."""
    lines = []
    listens = proxied = 0
    for line in block.splitlines():
        code = line.split("#", 1)[0].strip()
        if code.startswith("listen "):
            listens += 1
            lines.append(f"    listen {listen};")
        elif code.startswith("ssl_") or line.strip().startswith("# ssl_"):
            continue
        elif code.startswith("proxy_pass "):
            if README_UPSTREAM not in code:
                raise ValueError(f"proxy_pass does not point at {README_UPSTREAM}: {line!r}")
            proxied += 1
            lines.append(line.replace(README_UPSTREAM, upstream))
        elif code.startswith("access_log ") and access_log is not None:
            path, *rest = code[len("access_log "):-1].split()
            lines.append(f"    access_log {' '.join([access_log, *rest])};")
        else:
            lines.append(line)
    if listens != 1 or proxied < 1:
        raise ValueError(f"expected one listen and a proxy_pass, found {listens} and {proxied}")
    return "\n".join(lines) + "\n"


class NginxServer:
    """One nginx (master + one worker) serving ``server_block``, adapted to listen on
    ``host``:``port`` (default: a free one) and to proxy to ``upstream_port`` on 127.0.0.1."""

    def __init__(self, server_block: str, workdir: Path, *, upstream_port: int,
                 host: str = "127.0.0.1", port: int | None = None):
        binary = nginx_binary()
        if binary is None:
            raise ServerFailed("no nginx binary")
        self.binary = binary
        self.prefix = Path(workdir)
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.base_url = f"http://{host}:{self.port}"
        self.server_block = adapt_for_test(server_block, listen=f"{host}:{self.port}",
                                           upstream=f"http://127.0.0.1:{upstream_port}",
                                           access_log=str(self.prefix / "access.log"))
        self.config_path = self.prefix / "nginx.conf"
        self.error_log = self.prefix / "error.log"
        self.process: subprocess.Popen | None = None

    def config_text(self) -> str:
        temp = {name: self.prefix / name for name in
                ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir(exist_ok=True)
        # Run as root (as in CI containers), nginx would switch its worker to `nobody`, which
        # cannot use temporary files in a private pytest directory: keep the worker's user.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        return (
            f"{user}"
            "worker_processes 1;\n"
            f"pid {self.prefix / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"    access_log {self.prefix / 'access.log'};\n"
            f"    client_body_temp_path {temp['client_body']};\n"
            f"    proxy_temp_path {temp['proxy']};\n"
            f"    fastcgi_temp_path {temp['fastcgi']};\n"
            f"    uwsgi_temp_path {temp['uwsgi']};\n"
            f"    scgi_temp_path {temp['scgi']};\n"
            f"{self.server_block}"
            "}\n"
        )

    def start(self) -> NginxServer:
        self.config_path.write_text(self.config_text(), encoding="utf-8")
        with open(self.prefix / "stderr.log", "wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.prefix), "-c", str(self.config_path),
                 "-e", str(self.error_log), "-g", "daemon off;"],
                stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_answering()
        return self

    def _wait_until_answering(self) -> None:
        give_up = time.monotonic() + STARTUP_GIVE_UP_S
        while time.monotonic() < give_up:
            if self.process.poll() is not None:
                raise ServerFailed(f"nginx exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}\n{self.config_path.read_text()}")
            try:
                requests.get(self.base_url + "/", timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.05)
        self.stop()
        raise ServerFailed(f"nginx did not answer on {self.base_url}:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        out = []
        for path in (self.prefix / "stderr.log", self.error_log):
            try:
                out.append(path.read_text(encoding="utf-8", errors="replace")[-chars:])
            except OSError:
                pass
        return "\n".join(out)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: nginx's fast shutdown (the worker goes too)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
