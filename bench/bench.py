"""Run the same Client-Server workload against this homeserver and against Synapse; print ratios.

    python bench/bench.py [--database sqlite|postgresql] [--users 50] [--senders 8] [--messages 50]

Both servers run on this machine with rate limits off and open registration: this homeserver
under gunicorn (gunicorn.conf.py), Synapse from the bench virtualenv (.bench-venv, made by
`make bench`). Each scenario reports its own figures for both servers and "ours / synapse"
(for rates higher is better for us; for latencies lower is better for us).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
BENCH_BIN = os.path.join(ROOT, ".bench-venv", "bin")
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, seconds: float = 90) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if requests.get(base + "/_matrix/client/versions", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not come up")


def create_postgres_database(prefix: str, synapse: bool = False) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = psycopg2.connect(POSTGRES_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        extra = " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" if synapse else ""
        cur.execute(f'CREATE DATABASE "{name}"{extra}')
    conn.close()
    return name


def drop_postgres_database(name: str) -> None:
    conn = psycopg2.connect(POSTGRES_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname=%s",
                    (name,))
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


class Server:
    name = ""

    def __init__(self, database: str, workdir: str):
        self.database = database
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.server_name = f"localhost:{self.port}"
        self.process: subprocess.Popen | None = None
        self.pg_name: str | None = None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.pg_name:
            drop_postgres_database(self.pg_name)


class Ours(Server):
    name = "homeserver"

    def start(self) -> None:
        config = os.path.join(self.workdir, "homeserver.yaml")
        data = os.path.join(self.workdir, "data")
        if self.database == "postgresql":
            self.pg_name = create_postgres_database("bench_hs")
            database = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            database = os.path.join(data, "homeserver.db")
        with open(config, "w") as handle:
            handle.write(f"server_name: '{self.server_name}'\ndata_dir: '{data}'\n"
                         f"database: '{database}'\nlog_level: WARNING\n"
                         "registration:\n  enabled: true\nrate_limits:\n  enabled: false\n")
        env = {**os.environ, "HOMESERVER_CONFIG": config}
        env.pop("GUNICORN_CMD_ARGS", None)
        self.process = subprocess.Popen(
            [os.path.join(VENV_BIN, "gunicorn"), "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=open(
                os.path.join(self.workdir, "server.log"), "w"))
        wait_until_up(self.base, self.process)


class Synapse(Server):
    name = "synapse"

    def start(self) -> None:
        python = os.path.join(BENCH_BIN, "python")
        config = os.path.join(self.workdir, "homeserver.yaml")
        subprocess.run([python, "-m", "synapse.app.homeserver", "--server-name", self.server_name,
                        "--config-path", config, "--generate-config", "--report-stats", "no",
                        "--data-directory", self.workdir],
                       check=True, cwd=self.workdir, stdout=subprocess.DEVNULL)
        if self.database == "postgresql":
            self.pg_name = create_postgres_database("bench_syn", synapse=True)
            database = ("database:\n  name: psycopg2\n  args:\n    user: postgres\n"
                        f"    database: {self.pg_name}\n    host: 127.0.0.1\n    port: 5432\n"
                        "    cp_min: 5\n    cp_max: 10\n")
        else:
            database = ("database:\n  name: sqlite3\n  args:\n"
                        f"    database: {os.path.join(self.workdir, 'homeserver.db')}\n")
        unlimited = "\n".join(
            f"{key}:\n  per_second: 100000\n  burst_count: 100000" for key in (
                "rc_message", "rc_registration", "rc_joins_per_room", "rc_3pid_validation",
                "rc_invites_per_room", "rc_invites_per_user", "rc_invites_per_issuer",
                "rc_admin_redaction", "rc_room_creation", "rc_presence_per_user",
                "rc_delayed_event_mgmt"))
        with open(config, "a") as handle:
            handle.write(
                "\n" + database +
                f"listeners:\n  - port: {self.port}\n    bind_addresses: ['127.0.0.1']\n"
                "    type: http\n    tls: false\n    x_forwarded: false\n"
                "    resources:\n      - names: [client]\n        compress: false\n"
                "enable_registration: true\nenable_registration_without_verification: true\n"
                "rc_login:\n  address:\n    per_second: 100000\n    burst_count: 100000\n"
                "  account:\n    per_second: 100000\n    burst_count: 100000\n"
                "  failed_attempts:\n    per_second: 100000\n    burst_count: 100000\n"
                "rc_joins:\n  local:\n    per_second: 100000\n    burst_count: 100000\n"
                "  remote:\n    per_second: 100000\n    burst_count: 100000\n"
                + unlimited + "\ntrusted_key_servers: []\nsuppress_key_server_warning: true\n")
        with open(os.path.join(self.workdir, "localhost.log.config"), "w") as handle:
            handle.write("version: 1\nroot:\n  level: WARNING\n  handlers: []\n"
                         "disable_existing_loggers: false\n")
        log_config = [f for f in os.listdir(self.workdir) if f.endswith(".log.config")]
        for name in log_config:
            with open(os.path.join(self.workdir, name), "w") as handle:
                handle.write("version: 1\nroot:\n  level: WARNING\n  handlers: []\n"
                             "disable_existing_loggers: false\n")
        self.process = subprocess.Popen(
            [python, "-m", "synapse.app.homeserver", "--config-path", config],
            cwd=self.workdir, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.workdir, "server.log"), "w"))
        wait_until_up(self.base, self.process, 180)


# --- workload -----------------------------------------------------------------------------------

class Api:
    def __init__(self, base: str):
        self.base = base
        self.local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.session.request(method, self.base + "/_matrix/client/v3" + path,
                                        headers=headers, timeout=120, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def register(self, username: str) -> dict:
        return self.call("POST", "/register", json={
            "username": username, "password": "bench-password-123",
            "auth": {"type": "m.login.dummy"}, "initial_device_display_name": "bench"})


def timed(func, *args):
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def scenario_register(api: Api, args) -> tuple[dict, list[dict]]:
    names = [f"bench{uuid.uuid4().hex[:10]}" for _ in range(args.users)]
    latencies = []

    def one(name):
        _, seconds = timed(api.register, name)
        latencies.append(seconds)
        return _

    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        users = list(pool.map(one, names))
    total = time.perf_counter() - start
    return {"registrations/s": len(users) / total, "p50 ms": pct(latencies, 50),
            "p99 ms": pct(latencies, 99)}, users


def scenario_create_rooms(api: Api, users: list[dict], args) -> tuple[dict, list[str]]:
    latencies = []

    def create(user):
        start = time.perf_counter()
        room = api.call("POST", "/createRoom", user["access_token"],
                        json={"preset": "public_chat", "name": "bench room"})
        latencies.append(time.perf_counter() - start)
        return room["room_id"]

    creators = (users * ((args.rooms // len(users)) + 1))[:args.rooms]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        rooms = list(pool.map(create, creators))
    total = time.perf_counter() - start
    return {"rooms/s": len(rooms) / total, "p50 ms": pct(latencies, 50),
            "p99 ms": pct(latencies, 99)}, rooms


def scenario_send_one_room(api: Api, users: list[dict], args) -> dict:
    owner, senders = users[0], users[1:args.senders + 1]
    room_id = api.call("POST", "/createRoom", owner["access_token"],
                       json={"preset": "public_chat"})["room_id"]
    for user in senders:
        api.call("POST", f"/join/{room_id}", user["access_token"], json={})
    latencies: list[float] = []
    lock = threading.Lock()

    def sender(user):
        for n in range(args.messages):
            start = time.perf_counter()
            api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                     user["access_token"], json={"msgtype": "m.text", "body": f"message {n}"})
            with lock:
                latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    with ThreadPoolExecutor(len(senders)) as pool:
        list(pool.map(sender, senders))
    total = time.perf_counter() - start
    return {"events/s": len(latencies) / total, "p50 ms": pct(latencies, 50),
            "p99 ms": pct(latencies, 99)}


def scenario_sync_delivery(api: Api, users: list[dict], args) -> dict:
    """Time from a send returning to the message arriving in another user's long-poll."""
    alice, bob = users[0], users[1]
    room_id = api.call("POST", "/createRoom", alice["access_token"],
                       json={"preset": "public_chat"})["room_id"]
    api.call("POST", f"/join/{room_id}", bob["access_token"], json={})
    since = api.call("GET", "/sync", bob["access_token"], params={"timeout": 0})["next_batch"]
    latencies = []
    for n in range(args.deliveries):
        received = threading.Event()
        result = {}

        def poll():
            nonlocal since
            deadline = time.time() + 30
            while time.time() < deadline:
                body = api.call("GET", "/sync", bob["access_token"],
                                params={"since": since, "timeout": 10000})
                since = body["next_batch"]
                room = body.get("rooms", {}).get("join", {}).get(room_id, {})
                if any(e.get("content", {}).get("body") == f"ping {n}"
                       for e in room.get("timeline", {}).get("events", [])):
                    result["at"] = time.perf_counter()
                    received.set()
                    return

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.2)  # let the long-poll start waiting
        sent = time.perf_counter()
        api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                 alice["access_token"], json={"msgtype": "m.text", "body": f"ping {n}"})
        thread.join()
        if received.is_set():
            latencies.append(result["at"] - sent)
    return {"p50 ms": pct(latencies, 50), "p99 ms": pct(latencies, 99),
            "delivered": len(latencies)}


def scenario_initial_sync(api: Api, users: list[dict], rooms: list[str], args) -> dict:
    """A user in many rooms with history does an initial sync."""
    user = users[-1]
    for room_id in rooms[:args.sync_rooms]:
        api.call("POST", f"/join/{room_id}", user["access_token"], json={})
        for n in range(5):
            api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                     user["access_token"], json={"msgtype": "m.text", "body": f"history {n}"})
    latencies = []
    for _ in range(5):
        start = time.perf_counter()
        api.call("GET", "/sync", user["access_token"], params={"timeout": 0})
        latencies.append(time.perf_counter() - start)
    return {"p50 ms": pct(latencies, 50), "max ms": max(latencies) * 1000}


def pct(values: list[float], p: int) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


def run_workload(server: Server, args) -> dict:
    api = Api(server.base)
    results = {}
    stats, users = scenario_register(api, args)
    results["register"] = stats
    for name, func in (("create rooms", lambda: scenario_create_rooms(api, users, args)),):
        try:
            results[name], rooms = func()
        except RuntimeError as exc:
            results[name] = {"error": str(exc)[:120]}
            rooms = []
    for name, func in (
            ("send, one room", lambda: scenario_send_one_room(api, users, args)),
            ("sync delivery", lambda: scenario_sync_delivery(api, users, args)),
            ("initial sync", lambda: scenario_initial_sync(api, users, rooms, args))):
        try:
            results[name] = func()
        except RuntimeError as exc:
            results[name] = {"error": str(exc)[:120]}
    return results


HIGHER_IS_BETTER = ("/s",)


def print_table(ours: dict, theirs: dict) -> None:
    print(f"\n{'scenario':<18} {'metric':<18} {'homeserver':>12} {'synapse':>12} {'ratio':>8}")
    for scenario, metrics in ours.items():
        other = theirs.get(scenario, {})
        if "error" in metrics or "error" in other:
            print(f"{scenario:<18} error: ours={metrics.get('error', 'ok')} "
                  f"synapse={other.get('error', 'ok')}")
            continue
        for metric, value in metrics.items():
            theirs_value = other.get(metric, float("nan"))
            if metric.endswith(HIGHER_IS_BETTER):
                ratio = value / theirs_value if theirs_value else float("nan")
                note = "x faster"
            elif "ms" in metric:
                ratio = theirs_value / value if value else float("nan")
                note = "x faster"
            else:
                ratio, note = float("nan"), ""
            print(f"{scenario:<18} {metric:<18} {value:>12.1f} {theirs_value:>12.1f} "
                  f"{ratio:>7.2f}{note and ' ' + note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--rooms", type=int, default=40)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--deliveries", type=int, default=20)
    parser.add_argument("--sync-rooms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(BENCH_BIN, "python")) and args.only != "homeserver":
        print("no Synapse bench virtualenv: run `make bench`", file=sys.stderr)
        return 2
    results = {}
    for cls in (Ours, Synapse):
        if args.only and cls.name != args.only:
            continue
        workdir = tempfile.mkdtemp(prefix=f"bench-{cls.name}-")
        server = cls(args.database, workdir)
        try:
            print(f"starting {cls.name} ({args.database}) on {server.base} ...", flush=True)
            server.start()
            results[cls.name] = run_workload(server, args)
            print(f"{cls.name}: {results[cls.name]}", flush=True)
        finally:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    if len(results) == 2:
        print_table(results["homeserver"], results["synapse"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
