"""Sending into a large room versus a two-member room, this homeserver side by side with Synapse:
every message is evaluated against each member's push rules (notification counts, pushes), so
this measures what room size costs a send.

    python bench/bench_push.py [--database sqlite|postgresql] [--members 500] [--messages 200]

For each server: messages sent one after another by one member into a --members room and into a
two-member room (events/s, p50, p99), the ratio large/small, and a check that a member of the
large room sees the unread count. Uses the servers of bench/bench.py (Synapse from .bench-venv,
made by `make bench`); steps alternate between the servers so other load weighs on both alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


class Setup:
    def __init__(self, server, members: int):
        self.api = api = bench.Api(server.base)
        with ThreadPoolExecutor(8) as pool:
            self.users = list(pool.map(lambda _: api.register(f"pb{uuid.uuid4().hex[:10]}"),
                                       range(members)))
        owner = self.users[0]["access_token"]
        self.large = api.call("POST", "/createRoom", owner, json={"preset": "public_chat"})[
            "room_id"]
        for user in self.users[1:]:
            api.call("POST", f"/join/{self.large}", user["access_token"], json={})
        self.small = api.call("POST", "/createRoom", owner, json={"preset": "public_chat"})[
            "room_id"]
        api.call("POST", f"/join/{self.small}", self.users[1]["access_token"], json={})
        self.sender = self.users[1]["access_token"]

    def send(self, room_id: str) -> float:
        start = time.perf_counter()
        self.api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                      self.sender, json={"msgtype": "m.text", "body": "hello everyone"})
        return time.perf_counter() - start

    def unread_of_last_member(self) -> int:
        body = self.api.call("GET", "/sync", self.users[-1]["access_token"])
        return body["rooms"]["join"][self.large]["unread_notifications"]["notification_count"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    classes = [cls for cls in (bench.Ours, bench.Synapse) if args.only in (None, cls.name)]
    servers, workdirs, setups = [], [], {}
    results: dict[str, dict[str, list[float]]] = {}
    unread = {}
    try:
        for cls in classes:
            workdir = tempfile.mkdtemp(prefix=f"bench-push-{cls.name}-")
            workdirs.append(workdir)
            server = cls(args.database, workdir)
            print(f"starting {cls.name} ({args.database}) ...", flush=True)
            server.start()
            servers.append(server)
        for server in servers:
            print(f"setting up {server.name}: {args.members} members ...", flush=True)
            setups[server.name] = Setup(server, args.members)
            results[server.name] = {"small": [], "large": []}
        for n in range(args.messages):
            for server in servers:
                setup = setups[server.name]
                # Alternate the rooms too, so neither gets the quieter moments.
                order = ("small", "large") if n % 2 else ("large", "small")
                for size in order:
                    room_id = setup.small if size == "small" else setup.large
                    results[server.name][size].append(setup.send(room_id))
        for server in servers:
            unread[server.name] = setups[server.name].unread_of_last_member()
    finally:
        for server in servers:
            server.stop()
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    def row(label, values):
        print(f"{label:<40}" + "".join(f"{v:>14}" for v in values))

    names = [server.name for server in servers]
    row("", names)
    for size, label in (("small", "2 members"), ("large", f"{args.members} members")):
        row(f"{label}: events/s",
            [f"{len(results[n][size]) / sum(results[n][size]):.1f}" for n in names])
        row(f"{label}: p50 ms", [f"{bench.pct(results[n][size], 50):.1f}" for n in names])
        row(f"{label}: p99 ms", [f"{bench.pct(results[n][size], 99):.1f}" for n in names])
    row("mean send time, large / small", [
        f"{sum(results[n]['large']) / sum(results[n]['small']):.2f}x" for n in names])
    row("unread count of a large-room member", [str(unread[n]) for n in names])
    return 0


if __name__ == "__main__":
    sys.exit(main())
