"""Database-bound paths, this homeserver side by side with Synapse (all servers running at
once, each round alternating between them so the machine's other load weighs on all alike):

- send: --senders users send --messages messages each into one room at once (events/s, p50,
  p99 of each send);
- initial sync of a fresh login of a user in --rooms rooms (5 messages each);
- /messages: the newest page of 100 of a room with --history events.

    python bench/bench_db.py [--database sqlite|postgresql] [--rounds 3]
        [--before PATH]   # also run this homeserver from another checkout (say the commit
                          # before a change: `git worktree add PATH <commit>`)

Uses the servers of bench/bench.py (Synapse from .bench-venv, made by `make bench`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
from bench_sync import make_rooms, new_user, send  # noqa: E402


class Before(bench.Ours):
    """This homeserver from another source tree (same virtualenv, same configuration)."""

    name = "before"
    root = ""

    def start(self) -> None:
        config = os.path.join(self.workdir, "homeserver.yaml")
        data = os.path.join(self.workdir, "data")
        if self.database == "postgresql":
            self.pg_name = bench.create_postgres_database("bench_before")
            database = bench.POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + self.pg_name
        else:
            database = os.path.join(data, "homeserver.db")
        with open(config, "w") as handle:
            handle.write(f"server_name: '{self.server_name}'\ndata_dir: '{data}'\n"
                         f"database: '{database}'\nlog_level: WARNING\n"
                         "registration:\n  enabled: true\nrate_limits:\n  enabled: false\n")
        env = {**os.environ, "HOMESERVER_CONFIG": config, "PYTHONPATH": self.root}
        env.pop("GUNICORN_CMD_ARGS", None)
        self.process = subprocess.Popen(
            [os.path.join(bench.VENV_BIN, "gunicorn"), "--config", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", "/dev/null"],
            cwd=self.root, env=env, stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.workdir, "server.log"), "w"))
        bench.wait_until_up(self.base, self.process)


class Setup:
    def __init__(self, server, args):
        self.api = api = bench.Api(server.base)
        self.args = args
        self.owner = new_user(api)
        self.senders = [new_user(api) for _ in range(args.senders)]
        self.reader = new_user(api)
        make_rooms(api, self.reader, args.rooms, messages=5)
        self.history_room = api.call("POST", "/createRoom", self.owner["access_token"],
                                     json={"preset": "public_chat"})["room_id"]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: send(api, self.owner["access_token"], self.history_room,
                                         f"h{n}"), range(args.history)))

    def send_round(self) -> tuple[float, list[float]]:
        """(events/s, latencies) of the senders sending at once into a new room."""
        api = self.api
        room_id = api.call("POST", "/createRoom", self.owner["access_token"],
                           json={"preset": "public_chat"})["room_id"]
        for user in self.senders:
            api.call("POST", f"/join/{room_id}", user["access_token"], json={})
        latencies, lock = [], threading.Lock()

        def sender(user):
            for n in range(self.args.messages):
                start = time.perf_counter()
                send(api, user["access_token"], room_id, f"message {n}")
                with lock:
                    latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        with ThreadPoolExecutor(len(self.senders)) as pool:
            list(pool.map(sender, self.senders))
        return len(latencies) / (time.perf_counter() - start), latencies

    def initial_sync(self) -> float:
        token = self.api.call("POST", "/login", json={
            "type": "m.login.password", "password": "bench-password-123",
            "identifier": {"type": "m.id.user", "user": self.reader["user_id"]}})["access_token"]
        start = time.perf_counter()
        self.api.call("GET", "/sync", token, params={"timeout": 0})
        return time.perf_counter() - start

    def messages_page(self) -> float:
        start = time.perf_counter()
        self.api.call("GET", f"/rooms/{self.history_room}/messages", self.owner["access_token"],
                      params={"dir": "b", "limit": 100})
        return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--history", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", default=None)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    classes = [cls for cls in (bench.Ours, bench.Synapse) if args.only in (None, cls.name)]
    if args.before:
        Before.root = os.path.abspath(args.before)
        classes.insert(1, Before)
    servers, workdirs, setups = [], [], {}
    results = {}
    try:
        for cls in classes:
            workdir = tempfile.mkdtemp(prefix=f"bench-db-{cls.name}-")
            workdirs.append(workdir)
            server = cls(args.database, workdir)
            print(f"starting {cls.name} ({args.database}) ...", flush=True)
            server.start()
            servers.append(server)
        for server in servers:
            print(f"setting up {server.name} ...", flush=True)
            setups[server.name] = Setup(server, args)
            results[server.name] = {"rate": [], "send": [], "initial": [], "messages": []}
        for _ in range(args.rounds):
            for server in servers:
                rate, latencies = setups[server.name].send_round()
                results[server.name]["rate"].append(rate)
                results[server.name]["send"].extend(latencies)
            for server in servers:
                for _ in range(3):
                    results[server.name]["initial"].append(setups[server.name].initial_sync())
                for _ in range(10):
                    results[server.name]["messages"].append(setups[server.name].messages_page())
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                print(f"stopping {server.name}: {exc}", file=sys.stderr)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    names = [server.name for server in servers]
    pct = bench.pct

    def row(label, values):
        print(f"{label:<40}" + "".join(f"{v:>14}" for v in values))

    row(f"({args.database})", names)
    row(f"send, {args.senders} senders, events/s",
        [f"{sorted(results[n]['rate'])[len(results[n]['rate']) // 2]:.1f}" for n in names])
    for label, key, p in (("send p50 ms", "send", 50), ("send p99 ms", "send", 99),
                          (f"initial sync, {args.rooms} rooms p50 ms", "initial", 50),
                          ("/messages, page of 100 p50 ms", "messages", 50)):
        row(label, [f"{pct(results[n][key], p):.1f}" for n in names])
    return 0


if __name__ == "__main__":
    sys.exit(main())
