"""Every scenario of issue 18 against this homeserver and Synapse on one machine; writes the
table of ratios into docs/performance.md (between its bench:begin/end markers).

    python bench/bench.py [--database sqlite|postgresql|both] [--idle 200,1000] [--output -]
    python bench/bench.py --database postgresql --steps send --output -   # the send burst only


For each database both servers run at once, with rate limits off and open registration: this
homeserver under gunicorn (gunicorn.conf.py), Synapse from the bench virtualenv (.bench-venv,
made by `make bench`). Each measured step alternates between the two servers, so the machine's
other load weighs on both alike (the send burst, which saturates a server, runs on one at a
time). Server CPU and memory (PSS) are summed over the server's whole process tree from /proc.
Every size is an option (see --help)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from busy_room import run_busy_room  # noqa: E402
from procstats import IdlePolls, cpu_seconds, pss_mib, settle  # noqa: E402
from report import pct, render, write_report  # noqa: E402

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
    # Extra gunicorn options (e.g. "--workers 2"), to compare process models: --gunicorn-args.
    gunicorn_args: list[str] = []

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
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null",
             *self.gunicorn_args],
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
                + unlimited + "\ntrusted_key_servers: []\nsuppress_key_server_warning: true\n"
                # Registering a thousand idle clients: bcrypt's default 12 rounds would take
                # minutes (no scenario times a password check).
                "bcrypt_rounds: 4\n")
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
        kwargs.setdefault("timeout", 120)
        response = self.session.request(method, self.base + "/_matrix/client/v3" + path,
                                        headers=headers, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def register(self, username: str) -> dict:
        return self.call("POST", "/register", json={
            "username": username, "password": "bench-password-123",
            "auth": {"type": "m.login.dummy"}, "initial_device_display_name": "bench"})

    def login(self, user: dict) -> str:
        return self.call("POST", "/login", json={
            "type": "m.login.password", "password": "bench-password-123",
            "identifier": {"type": "m.id.user", "user": user["user_id"]}})["access_token"]

    def send(self, token: str, room_id: str, body: str, **kwargs) -> str:
        return self.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                         token, json={"msgtype": "m.text", "body": body}, **kwargs)["event_id"]

    def create_room(self, token: str, **extra) -> str:
        return self.call("POST", "/createRoom", token,
                         json={"preset": "public_chat", **extra})["room_id"]

    def join(self, token: str, room_id: str) -> None:
        self.call("POST", f"/join/{room_id}", token, json={})



def parallel(func, items, workers: int = 8) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(func, items))


# --- one server's rooms and users ---------------------------------------------------------------

class Setup:
    """Everything the scenarios use, made once per server before any measurement."""

    def __init__(self, server: Server, args):
        self.server, self.args = server, args
        api = self.api = Api(server.base)
        steps = args.steps
        prefix = uuid.uuid4().hex[:6]
        users = parallel(lambda n: api.register(f"b{prefix}u{n}"), range(args.senders + 4))
        self.alice, self.bob, self.reader, self.lazy_reader = users[:4]
        self.senders = users[4:]
        # Idle clients (one device each) and the members of the big room.
        crowd = max((args.idle if "idle" in steps else [])
                    + ([args.members] if steps & {"lazy-sync", "busy-room"} else [])
                    + ([1] if "incremental" in steps else []), default=0)
        self.crowd = parallel(lambda n: api.register(f"b{prefix}c{n}"), range(crowd))
        token = self.alice["access_token"]
        if "send" in steps:
            self.send_room = api.create_room(token)
            parallel(lambda user: api.join(user["access_token"], self.send_room), self.senders)
        if steps & {"delivery", "idle"}:
            self.chat_room = api.create_room(token)
            api.join(self.bob["access_token"], self.chat_room)
            self.bob_since = api.call("GET", "/sync", self.bob["access_token"],
                                      params={"timeout": 0})["next_batch"]

        def history_room(n):
            room_id = api.create_room(self.reader["access_token"], name=f"room {n}")
            for m in range(5):
                api.send(self.reader["access_token"], room_id, f"history {m}")
            return room_id

        if "initial-sync" in steps:
            self.reader_rooms = parallel(history_room, range(args.sync_rooms))
        if "messages" in steps:
            self.history_room = api.create_room(token)
            parallel(lambda n: api.send(token, self.history_room, f"h{n}"), range(args.history))
        if steps & {"lazy-sync", "busy-room"}:
            self.big_room = api.create_room(token, name="big room")
            members = self.crowd[:args.members]
            parallel(lambda user: api.join(user["access_token"], self.big_room), members)
            for n in range(args.big_messages):
                api.send(members[n % len(members)]["access_token"], self.big_room, f"chat {n}")
            api.join(self.lazy_reader["access_token"], self.big_room)
        if "incremental" in steps:
            # Last: nothing after its since token concerns it (the big room's members are the
            # first of the crowd), so each step is an incremental sync with nothing new. It
            # syncs as offline: its own presence going idle 5 min on would be news.
            self.idle_user = self.crowd[-1]
            parallel(lambda n: api.create_room(self.idle_user["access_token"]), range(10))
            self.idle_since = api.call("GET", "/sync", self.idle_user["access_token"],
                                       params={"timeout": 0, "set_presence": "offline"}
                                       )["next_batch"]
        self.pss_after_setup = pss_mib(server.process.pid)

    # Each step below is one measurement (seconds), alternated between the two servers.

    def delivery(self) -> float:
        """A send returning, until the message arrives in another user's held long-poll."""
        label, result = f"ping {uuid.uuid4().hex}", {}
        started = threading.Event()
        # A delivery that has not happened by then failed (an overloaded server would
        # otherwise hold the run for the clients' 120 s timeouts at every step).
        deadline = time.monotonic() + DELIVERY_GIVE_UP_S

        def poll():
            since = self.bob_since
            try:
                while "at" not in result:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise RuntimeError(f"no delivery within {DELIVERY_GIVE_UP_S} s")
                    started.set()
                    body = self.api.call("GET", "/sync", self.bob["access_token"],
                                         params={"since": since,
                                                 "timeout": int(min(30, left) * 1000)},
                                         timeout=left + 5)
                    since = body["next_batch"]
                    room = body.get("rooms", {}).get("join", {}).get(self.chat_room, {})
                    if any(e.get("content", {}).get("body") == label
                           for e in room.get("timeline", {}).get("events", [])):
                        result["at"] = time.perf_counter()
            except (RuntimeError, requests.RequestException) as exc:
                result["error"] = exc
                started.set()
            self.bob_since = since

        thread = threading.Thread(target=poll)
        thread.start()
        started.wait()
        time.sleep(0.15)  # the long-poll is waiting
        sent = time.perf_counter()
        try:
            self.api.send(self.alice["access_token"], self.chat_room, label,
                          timeout=DELIVERY_GIVE_UP_S)
        finally:
            thread.join()
        if "at" not in result:
            raise RuntimeError(f"not delivered: {result.get('error')}")
        return result["at"] - sent

    def initial_sync(self) -> float:
        """A fresh login's first sync (a new device: Synapse caches a repeated one)."""
        token = self.api.login(self.reader)
        start = time.perf_counter()
        self.api.call("GET", "/sync", token, params={"timeout": 0})
        return time.perf_counter() - start

    def lazy_initial_sync(self) -> float:
        """A member of only the big room, as Element loads it: members of the timeline only."""
        token = self.api.login(self.lazy_reader)
        start = time.perf_counter()
        self.api.call("GET", "/sync", token, params={"timeout": 0, "filter": json.dumps({
            "room": {"state": {"lazy_load_members": True}, "timeline": {"limit": 20}}})})
        return time.perf_counter() - start

    def incremental(self) -> float:
        start = time.perf_counter()
        self.api.call("GET", "/sync", self.idle_user["access_token"],
                      params={"since": self.idle_since, "timeout": 0, "set_presence": "offline"})
        return time.perf_counter() - start

    def messages_pages(self) -> list[float]:
        """Each page of 100 paging back over the history room."""
        token, seconds = None, []
        while True:
            params = {"dir": "b", "limit": 100}
            if token:
                params["from"] = token
            start = time.perf_counter()
            page = self.api.call("GET", f"/rooms/{self.history_room}/messages",
                                 self.alice["access_token"], params=params)
            seconds.append(time.perf_counter() - start)
            token = page.get("end")
            if not token or not page["chunk"]:
                return seconds

    def send_burst(self) -> tuple[float, list[float]]:
        """``senders`` users sending ``messages`` each into one room at once."""
        latencies, lock = [], threading.Lock()

        def sender(user):
            for n in range(self.args.messages):
                start = time.perf_counter()
                self.api.send(user["access_token"], self.send_room, f"message {n}")
                with lock:
                    latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        parallel(sender, self.senders, len(self.senders))
        return len(latencies) / (time.perf_counter() - start), latencies

    def idle_sessions(self, count: int) -> list[tuple[str, str]]:
        """One device per idle client, each with its current since token."""
        return parallel(lambda user: (user["access_token"], self.api.call(
            "GET", "/sync", user["access_token"], params={"timeout": 0})["next_batch"]),
            self.crowd[:count])


DELIVERY_GIVE_UP_S = 30
STEPS = ("send", "delivery", "initial-sync", "incremental", "messages", "lazy-sync", "idle",
         "busy-room")
# Names that stand for several steps.
STEP_GROUPS = {"sync": ("delivery", "initial-sync", "incremental", "lazy-sync")}


def parse_steps(text: str) -> frozenset[str]:
    """``--steps``: comma-separated step names (STEPS, or a group of STEP_GROUPS)."""
    chosen = set()
    for name in (n.strip() for n in text.split(",") if n.strip()):
        if name in STEP_GROUPS:
            chosen.update(STEP_GROUPS[name])
        elif name in STEPS:
            chosen.add(name)
        else:
            raise argparse.ArgumentTypeError(
                f"unknown step {name!r}: one of {', '.join(STEPS + tuple(STEP_GROUPS))}")
    return frozenset(chosen)


# --- running both servers side by side ----------------------------------------------------------

def alternate(setups: dict[str, Setup], step, times: int,
              failures: dict[str, int] | None = None) -> dict[str, list[float]]:
    """``times`` rounds of ``step`` on each server in turn: the machine's other load weighs on
    both alike. A failed step (an error answer) is counted in ``failures``, not measured."""
    samples = {name: [] for name in setups}
    for _ in range(times):
        for name, setup in setups.items():
            try:
                value = step(setup)
            except (RuntimeError, requests.RequestException) as exc:
                print(f"  {name}: {step.__name__} failed: {str(exc)[:160]}", flush=True)
                if failures is not None:
                    failures[name] = failures.get(name, 0) + 1
                continue
            samples[name].extend(value if isinstance(value, list) else [value])
    return samples


def run_database(database: str, args) -> dict[str, dict[str, float]]:
    """All scenarios on one database; {metric: {server name: value}}."""
    classes = [cls for cls in (Ours, Synapse) if args.only in (None, cls.name)]
    servers, workdirs, results = [], [], {}

    def record(metric, values):
        results.setdefault(metric, {}).update(values)

    try:
        for cls in classes:
            workdir = tempfile.mkdtemp(prefix=f"bench-{cls.name}-")
            workdirs.append(workdir)
            server = cls(database, workdir)
            print(f"[{database}] starting {cls.name} on {server.base} ...", flush=True)
            server.start()
            servers.append(server)
        setups = {}
        for server in servers:
            print(f"[{database}] setting up {server.name} ...", flush=True)
            setups[server.name] = Setup(server, args)
        steps = args.steps
        for name, setup in setups.items():
            if "send" not in steps:
                break
            print(f"[{database}] send burst on {name} ...", flush=True)
            rate, latencies = setup.send_burst()
            record(f"send throughput, {args.senders} senders, one room (events/s)",
                   {name: rate})
            record("send latency p50 (ms)", {name: pct(latencies, 50)})
            record("send latency p99 (ms)", {name: pct(latencies, 99)})
        if steps - {"send", "idle"}:
            print(f"[{database}] sync scenarios ...", flush=True)
        p50_steps = [  # (step, measurement, rounds, figure)
            ("delivery", Setup.delivery, args.deliveries, "send -> other user's sync p50 (ms)"),
            ("initial-sync", Setup.initial_sync, args.repeat,
             f"initial sync, {args.sync_rooms} rooms p50 (ms)"),
            ("incremental", Setup.incremental, args.incremental,
             "incremental sync, nothing new p50 (ms)"),
            ("messages", Setup.messages_pages, 2, "/messages, page of 100 p50 (ms)"),
            ("lazy-sync", Setup.lazy_initial_sync, args.repeat,
             f"lazy-loaded initial sync, {args.members}-member room p50 (ms)")]
        for step, measurement, rounds, figure in p50_steps:
            if step in steps:
                samples = alternate(setups, measurement, rounds)
                record(figure, {n: pct(v, 50) for n, v in samples.items()})
        for count in (args.idle if "idle" in steps else []):
            print(f"[{database}] {count} idle long-polls ...", flush=True)
            polls = {name: IdlePolls(setup.server, setup.idle_sessions(count),
                                     args.poll_timeout * 1000)
                     for name, setup in setups.items()}
            for holder in polls.values():
                holder.start()
            settled = settle(polls, args.settle, args.settle_max)
            print(f"[{database}] {count} long-polls held, quiet after {settled:.0f} s; "
                  "measuring CPU", flush=True)
            before = {n: cpu_seconds(s.server.process.pid) for n, s in setups.items()}
            answered = {n: (holder.answered, holder.news) for n, holder in polls.items()}
            time.sleep(args.idle_window)
            for name, holder in polls.items():
                print(f"  {name}: {holder.answered - answered[name][0]} polls answered in the "
                      f"window ({holder.news - answered[name][1]} with news), "
                      f"{holder.errors} failed so far", flush=True)
            record(f"{count} idle long-polls: server CPU over {args.idle_window} s (s)",
                   {n: cpu_seconds(s.server.process.pid) - before[n]
                    for n, s in setups.items()})
            failed = {name: 0 for name in setups}
            samples = alternate(setups, Setup.delivery, args.idle_deliveries, failed)
            record(f"{count} idle long-polls: send -> sync p95 (ms)",
                   {n: pct(v, 95) for n, v in samples.items()})
            record(f"{count} idle long-polls: server memory, PSS (MiB)",
                   {n: pss_mib(s.server.process.pid) for n, s in setups.items()})
            for name, holder in polls.items():
                holder.stop()
                record(f"{count} idle long-polls: failed polls and sends",
                       {name: float(holder.errors + failed[name])})
        if "busy-room" in steps:
            run_busy_room(setups, args, record, database, DELIVERY_GIVE_UP_S)
        record("server memory after setup, PSS (MiB)",
               {n: s.pss_after_setup for n, s in setups.items()})
        record("server memory at the end, PSS (MiB)",
               {n: pss_mib(s.server.process.pid) for n, s in setups.items()})
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                print(f"stopping {server.name}: {exc}", file=sys.stderr)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=40, help="per sender")
    parser.add_argument("--deliveries", type=int, default=30)
    parser.add_argument("--sync-rooms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5, help="initial syncs per server")
    parser.add_argument("--incremental", type=int, default=40)
    parser.add_argument("--history", type=int, default=1000)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--big-messages", type=int, default=50)
    parser.add_argument("--idle", type=lambda s: [int(n) for n in s.split(",")],
                        default=[200, 1000], help="comma-separated counts of idle long-polls")
    parser.add_argument("--poll-timeout", type=int, default=30, help="seconds")
    parser.add_argument("--settle", type=float, default=5.0,
                        help="seconds without a poll answered before idle is measured")
    parser.add_argument("--settle-max", type=float, default=120.0, help="seconds")
    parser.add_argument("--idle-window", type=int, default=20, help="seconds")
    parser.add_argument("--idle-deliveries", type=int, default=20)
    parser.add_argument("--busy-rate", type=float, default=5.0,
                        help="messages/s into the big room in the busy-room step")
    parser.add_argument("--busy-seconds", type=float, default=40.0)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    parser.add_argument("--steps", type=parse_steps, default=frozenset(STEPS),
                        help="comma-separated steps to run (default: all): "
                             f"{', '.join(STEPS)}; 'sync' = {', '.join(STEP_GROUPS['sync'])}")
    parser.add_argument("--gunicorn-args", default="",
                        help="extra gunicorn options for this server, e.g. '--workers 2'")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "performance.md"),
                        help="the report's file ('-' prints it only)")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(BENCH_BIN, "python")) and args.only != "homeserver":
        print("no Synapse bench virtualenv: run `make bench`", file=sys.stderr)
        return 2
    Ours.gunicorn_args = shlex.split(args.gunicorn_args)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    started, results, loads = time.time(), {}, []
    for database in databases:
        load = os.getloadavg()[0]
        results[database] = run_database(database, args)
        loads.append((database, load, os.getloadavg()[0]))
        # Written after each database: a long run that is cut short keeps what it measured.
        block = render(results, args, started, loads)
        if args.output != "-":
            write_report(args.output, block)
    print(block)
    if args.output != "-":
        print(f"written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
