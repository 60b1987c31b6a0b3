"""Sync benchmark, this homeserver side by side with Synapse (both running at once, each step
alternating between them so the machine's other load weighs on both alike):

- sync latency: one user sends, another's long-poll returns it (p50/p99 over --deliveries);
- initial sync of a user in --initial-rooms rooms (5 messages each);
- incremental sync with nothing new, for a user in 10 rooms and in --many-rooms rooms
  (its cost should follow what changed, not the number of rooms);
- /messages paging back over --history events (limit 100 per page);
- idle long-polls: --idle concurrent long-polling /sync requests held open, errors counted,
  while the sync latency is measured again.

    python bench/bench_sync.py [--database sqlite|postgresql] [--idle 1000]

Uses the servers of bench/bench.py (Synapse from .bench-venv, made by `make bench`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def send(api, token, room_id, body):
    return api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}", token,
                    json={"msgtype": "m.text", "body": body})["event_id"]


def new_user(api):
    return api.register(f"sb{uuid.uuid4().hex[:10]}")


def make_rooms(api, user, count, messages=0):
    rooms = []

    def one(_):
        room_id = api.call("POST", "/createRoom", user["access_token"],
                           json={"preset": "public_chat", "name": "bench"})["room_id"]
        for n in range(messages):
            send(api, user["access_token"], room_id, f"history {n}")
        return room_id

    with ThreadPoolExecutor(8) as pool:
        rooms.extend(pool.map(one, range(count)))
    return rooms


def latency_once(api, alice, bob, room_id, since, label):
    """Send as alice; return (seconds until bob's held long-poll returned it, next since)."""
    result = {}

    def poll():
        token = since
        while "at" not in result:
            body = api.call("GET", "/sync", bob["access_token"],
                            params={"since": token, "timeout": 30000})
            token = body["next_batch"]
            events = body.get("rooms", {}).get("join", {}).get(room_id, {}).get(
                "timeline", {}).get("events", [])
            if any(e.get("content", {}).get("body") == label for e in events):
                result["at"] = time.perf_counter()
                result["since"] = token

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.1)
    sent = time.perf_counter()
    send(api, alice["access_token"], room_id, label)
    thread.join()
    return result["at"] - sent, result["since"]


class Setup:
    """Users and rooms on one server."""

    def __init__(self, server, args):
        self.api = bench.Api(server.base)
        api = self.api
        self.alice, self.bob = new_user(api), new_user(api)
        self.room = api.call("POST", "/createRoom", self.alice["access_token"],
                             json={"preset": "public_chat"})["room_id"]
        api.call("POST", f"/join/{self.room}", self.bob["access_token"], json={})
        self.since = api.call("GET", "/sync", self.bob["access_token"])["next_batch"]
        self.reader = new_user(api)
        self.initial_rooms = make_rooms(api, self.reader, args.initial_rooms, messages=5)
        self.few, self.many = new_user(api), new_user(api)
        make_rooms(api, self.few, 10)
        make_rooms(api, self.many, args.many_rooms)
        self.history_room = api.call("POST", "/createRoom", self.alice["access_token"],
                                     json={"preset": "public_chat"})["room_id"]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: send(api, self.alice["access_token"], self.history_room,
                                         f"h{n}"), range(args.history)))

    def latency(self, n):
        seconds, self.since = latency_once(self.api, self.alice, self.bob, self.room,
                                           self.since, f"ping {uuid.uuid4().hex}")
        return seconds

    def initial_sync(self):
        """A first sync of a fresh login (Synapse answers a repeated identical initial sync of
        the same device from a response cache; a new device is what a real first sync is)."""
        token = self.api.call("POST", "/login", json={
            "type": "m.login.password", "password": "bench-password-123",
            "identifier": {"type": "m.id.user", "user": self.reader["user_id"]}})["access_token"]
        start = time.perf_counter()
        self.api.call("GET", "/sync", token, params={"timeout": 0})
        return time.perf_counter() - start

    def incremental(self, user):
        since = getattr(self, "_since_" + user["user_id"], None)
        if since is None:
            since = self.api.call("GET", "/sync", user["access_token"])["next_batch"]
            setattr(self, "_since_" + user["user_id"], since)
        start = time.perf_counter()
        self.api.call("GET", "/sync", user["access_token"],
                      params={"since": since, "timeout": 0})
        return time.perf_counter() - start

    def page_history(self):
        """Seconds to page back over the whole history room, and the number of pages."""
        start, token, pages = time.perf_counter(), None, 0
        while True:
            params = {"dir": "b", "limit": 100}
            if token:
                params["from"] = token
            page = self.api.call("GET", f"/rooms/{self.history_room}/messages",
                                 self.alice["access_token"], params=params)
            pages += 1
            token = page.get("end")
            if not token or not page["chunk"]:
                return time.perf_counter() - start, pages


def idle_long_polls(server, setup, count, seconds):
    """Hold ``count`` long-polls open for ``seconds``; return (errors, latencies meanwhile)."""
    users = [new_user(setup.api) for _ in range(max(1, count // 20))]
    tokens = {u["access_token"]: setup.api.call("GET", "/sync", u["access_token"])["next_batch"]
              for u in users}
    stop = time.monotonic() + seconds
    errors = []

    def hold(index):
        token = users[index % len(users)]["access_token"]
        session = requests.Session()
        while time.monotonic() < stop:
            try:
                response = session.get(server.base + "/_matrix/client/v3/sync",
                                       params={"since": tokens[token], "timeout": 20000},
                                       headers={"Authorization": f"Bearer {token}"},
                                       timeout=60)
                if response.status_code != 200:
                    errors.append(response.status_code)
            except requests.RequestException as exc:
                errors.append(type(exc).__name__)

    threads = [threading.Thread(target=hold, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(5)  # let them all arrive and settle into waiting
    latencies = []
    while time.monotonic() < stop - 2 and len(latencies) < 30:
        latencies.append(setup.latency(0))
    for thread in threads:
        thread.join()
    return errors, latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--deliveries", type=int, default=100)
    parser.add_argument("--initial-rooms", type=int, default=100)
    parser.add_argument("--many-rooms", type=int, default=500)
    parser.add_argument("--history", type=int, default=5000)
    parser.add_argument("--idle", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=int, default=40)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    classes = [cls for cls in (bench.Ours, bench.Synapse) if args.only in (None, cls.name)]
    servers, workdirs, setups, results = [], [], {}, {}
    try:
        for cls in classes:
            workdir = tempfile.mkdtemp(prefix=f"bench-sync-{cls.name}-")
            workdirs.append(workdir)
            server = cls(args.database, workdir)
            print(f"starting {cls.name} ({args.database}) ...", flush=True)
            server.start()
            servers.append(server)
        for server in servers:
            print(f"setting up {server.name} ...", flush=True)
            setups[server.name] = Setup(server, args)
            results[server.name] = {"latency": [], "initial": [], "few": [], "many": [],
                                    "paging": []}
        for n in range(args.deliveries):
            for server in servers:
                results[server.name]["latency"].append(setups[server.name].latency(n))
        for _ in range(5):
            for server in servers:
                results[server.name]["initial"].append(setups[server.name].initial_sync())
        for _ in range(30):
            for server in servers:
                setup = setups[server.name]
                results[server.name]["few"].append(setup.incremental(setup.few))
                results[server.name]["many"].append(setup.incremental(setup.many))
        for _ in range(3):
            for server in servers:
                results[server.name]["paging"].append(setups[server.name].page_history())
        for server in servers:
            print(f"idle long-polls on {server.name} ...", flush=True)
            errors, latencies = idle_long_polls(server, setups[server.name], args.idle,
                                                args.idle_seconds)
            results[server.name]["idle_errors"] = len(errors)
            results[server.name]["idle_latency"] = latencies
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                print(f"stopping {server.name}: {exc}", file=sys.stderr)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    def row(label, values):
        print(f"{label:<44}" + "".join(f"{v:>14}" for v in values))

    names = [server.name for server in servers]
    row("", names)
    pct = bench.pct
    for label, key, p in (("sync latency p50 ms", "latency", 50),
                          ("sync latency p99 ms", "latency", 99),
                          (f"initial sync, {args.initial_rooms} rooms p50 ms", "initial", 50),
                          ("incremental, nothing new, 10 rooms p50 ms", "few", 50),
                          (f"incremental, nothing new, {args.many_rooms} rooms p50 ms", "many",
                           50),
                          (f"sync latency under {args.idle} idle polls p50 ms", "idle_latency",
                           50),
                          (f"sync latency under {args.idle} idle polls p99 ms", "idle_latency",
                           99)):
        row(label, [f"{pct(results[n][key], p):.1f}" for n in names])
    row(f"/messages over {args.history} events, total ms",
        [f"{min(s for s, _ in results[n]['paging']) * 1000:.0f}" for n in names])
    row("pages", [str(results[n]["paging"][0][1]) for n in names])
    row(f"errors among {args.idle} idle long-polls",
        [str(results[n]["idle_errors"]) for n in names])
    return 0


if __name__ == "__main__":
    sys.exit(main())
