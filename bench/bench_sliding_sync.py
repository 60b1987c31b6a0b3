"""Sliding sync (MSC4186) benchmark, this homeserver side by side with Synapse (both running at
once, each step alternating between them):

- first response of a new connection for a user in --rooms rooms: one list of range [0, 19],
  timeline_limit 1, the required_state Element X asks for its room list;
- incremental response after one new message (timeout 0, sent before the request);
- long-poll delivery latency: a request held with its pos, one message sent, time until the
  response carrying it returns (p50/p99 over --deliveries).

    python bench/bench_sliding_sync.py [--database sqlite|postgresql] [--rooms 1000]

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
ROOM_LIST = {"lists": {"all": {
    "ranges": [[0, 19]], "timeline_limit": 1,
    "required_state": [["m.room.name", ""], ["m.room.avatar", ""], ["m.room.encryption", ""],
                       ["m.room.create", ""], ["m.room.member", "$ME"]]}}}


class Setup:
    def __init__(self, server: bench.Server, args):
        self.api = bench.Api(server.base)
        self.alice = self.api.register(f"ss{uuid.uuid4().hex[:10]}")
        self.bob = self.api.register(f"ss{uuid.uuid4().hex[:10]}")
        token = self.alice["access_token"]

        def one(n):
            room_id = self.api.call("POST", "/createRoom", token,
                                    json={"preset": "public_chat", "name": f"room {n}"})["room_id"]
            self.send(room_id, "hello")
            return room_id

        with ThreadPoolExecutor(8) as pool:
            self.rooms = list(pool.map(one, range(args.rooms)))
        self.api.call("POST", f"/join/{self.rooms[0]}", self.bob["access_token"], json={})
        self.pos = self.request(self.alice, ROOM_LIST, conn_id="main")["pos"]
        self.turn = 0

    def send(self, room_id: str, body: str) -> None:
        self.api.call("PUT", f"/rooms/{room_id}/send/m.room.message/{uuid.uuid4().hex}",
                      self.alice["access_token"], json={"msgtype": "m.text", "body": body})

    def request(self, user: dict, body: dict, *, conn_id: str, pos: str | None = None,
                timeout: int = 0) -> dict:
        params = {"timeout": str(timeout)}
        if pos is not None:
            params["pos"] = pos
        response = self.api.session.post(
            self.api.base + PATH, params=params, json={**body, "conn_id": conn_id},
            headers={"Authorization": f"Bearer {user['access_token']}"}, timeout=120)
        if response.status_code != 200:
            raise RuntimeError(f"sliding sync: {response.status_code} {response.text[:300]}")
        return response.json()

    def first_response(self) -> float:
        start = time.perf_counter()
        body = self.request(self.alice, ROOM_LIST, conn_id=uuid.uuid4().hex)
        elapsed = time.perf_counter() - start
        assert len(body["rooms"]) == 20, len(body["rooms"])
        return elapsed

    def incremental(self) -> float:
        self.turn += 1
        room_id = self.rooms[(self.turn * 37) % len(self.rooms)]
        self.send(room_id, f"news {self.turn}")
        start = time.perf_counter()
        body = self.request(self.alice, ROOM_LIST, conn_id="main", pos=self.pos)
        elapsed = time.perf_counter() - start
        assert room_id in body["rooms"], "the new message's room is missing"
        self.pos = body["pos"]
        return elapsed

    def delivery(self, n: int) -> float:
        """bob waits on his one room with a held request; alice sends into it."""
        pos = self.request(self.bob, ROOM_LIST, conn_id="bob")["pos"]
        result: dict = {}

        def poll():
            result["body"] = self.request(self.bob, ROOM_LIST, conn_id="bob", pos=pos,
                                          timeout=30000)
            result["at"] = time.perf_counter()

        thread = threading.Thread(target=poll)
        thread.start()
        time.sleep(0.2)  # the poll is held by then (a benchmark, not a test)
        start = time.perf_counter()
        self.send(self.rooms[0], f"live {n}")
        thread.join()
        assert self.rooms[0] in result["body"]["rooms"]
        return result["at"] - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=50)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    classes = [cls for cls in (bench.Ours, bench.Synapse) if args.only in (None, cls.name)]
    servers, workdirs, setups = [], [], {}
    results: dict[str, dict[str, list[float]]] = {}
    try:
        for cls in classes:
            workdir = tempfile.mkdtemp(prefix=f"bench-sss-{cls.name}-")
            workdirs.append(workdir)
            server = cls(args.database, workdir)
            print(f"starting {cls.name} ({args.database}) ...", flush=True)
            server.start()
            servers.append(server)
        for server in servers:
            print(f"setting up {server.name}: a user in {args.rooms} rooms ...", flush=True)
            setups[server.name] = Setup(server, args)
            results[server.name] = {"first": [], "incremental": [], "delivery": []}
        for _ in range(5):
            for server in servers:
                results[server.name]["first"].append(setups[server.name].first_response())
        for _ in range(20):
            for server in servers:
                results[server.name]["incremental"].append(setups[server.name].incremental())
        for n in range(args.deliveries):
            for server in servers:
                results[server.name]["delivery"].append(setups[server.name].delivery(n))
    finally:
        for server in servers:
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                print(f"stopping {server.name}: {exc}", file=sys.stderr)
        for workdir in workdirs:
            shutil.rmtree(workdir, ignore_errors=True)

    names = [server.name for server in servers]
    print(f"{'':<52}" + "".join(f"{name:>14}" for name in names))
    for label, key, p in (
            (f"first response, {args.rooms} rooms, range 20, p50 ms", "first", 50),
            ("incremental after one new message p50 ms", "incremental", 50),
            ("incremental after one new message p99 ms", "incremental", 99),
            ("long-poll delivery latency p50 ms", "delivery", 50),
            ("long-poll delivery latency p99 ms", "delivery", 99)):
        print(f"{label:<52}" + "".join(
            f"{bench.pct(results[n][key], p):>14.1f}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
