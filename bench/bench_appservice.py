"""Application service delivery under a burst. Standalone (no Synapse needed):

    .venv/bin/python bench/bench_appservice.py [--database sqlite|postgresql] [--events 1000]
        [--senders 4]

Starts this homeserver under gunicorn (2 workers, as tests/e2e does) twice on fresh databases:
once with one application service (a recording HTTP server on 127.0.0.1 standing in for a
bridge, with a ghost joined to the room) and once without (a second user joined instead, so
the room is the same), while the user's client long-polls /sync. A user sends ``--events`` messages
from ``--senders`` threads into the room. Reports the send rate in both runs, and for the run
with the service: how many transactions carried the burst, and how long after the first send
the last event arrived.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import psycopg2
import requests
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "helpers"))
from gunicorn_server import GunicornServer  # noqa: E402
from local_http import LocalHTTPServer  # noqa: E402

POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
AS_TOKEN, HS_TOKEN = "bench-as-token", "bench-hs-token"


class Recorder:
    """The stand-in bridge: answers every transaction 200 and notes its events' arrival."""

    def __init__(self):
        self.arrivals: dict[str, float] = {}
        self.transactions = 0
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                now = time.perf_counter()
                with recorder.lock:
                    recorder.transactions += 1
                    for event in body.get("events", []):
                        recorder.arrivals.setdefault(event["event_id"], now)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = LocalHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def database(kind: str, workdir: str) -> str:
    if kind == "sqlite":
        return os.path.join(workdir, "bench.db")
    name = f"bench_as_{uuid.uuid4().hex[:10]}"
    conn = psycopg2.connect(POSTGRES_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name


def call(base, method, path, token=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.request(method, base + "/_matrix/client/v3" + path, headers=headers,
                                timeout=60, **kwargs)
    response.raise_for_status()
    return response.json()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children still running (gunicorn's tree)."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


def run(kind: str, events: int, senders: int, with_service: bool) -> dict:
    workdir = tempfile.mkdtemp(prefix="bench-as-")
    recorder = Recorder() if with_service else None
    extra = {}
    if recorder is not None:
        path = Path(workdir) / "registration.yaml"
        path.write_text(yaml.safe_dump({
            "id": "bench", "url": None if os.environ.get("BENCH_NO_URL") else recorder.url, "as_token": AS_TOKEN, "hs_token": HS_TOKEN,
            "sender_localpart": "benchbot",
            "namespaces": {"users": [{"exclusive": True, "regex": "@ghost_.*"}]}}))
        extra["app_service_config_files"] = [str(path)]
    from homeserver import db as hs_db
    from homeserver.config import load_config
    url = database(kind, workdir)
    hs_db.init_database(load_config(path=os.devnull, environ={},
                                    overrides={"database": url}).database_url, 2)
    hs_db.migrate()
    hs_db.database.obj.close_all()
    server = GunicornServer(url, Path(workdir) / "server", workers=2, **extra).start()
    try:
        base = server.base_url
        user = call(base, "POST", "/register", json={
            "username": "bencher", "password": "pw", "auth": {"type": "m.login.dummy"}})
        room_id = call(base, "POST", "/createRoom", user["access_token"], json={})["room_id"]
        if recorder is not None:
            ghost = f"@ghost_1:{server.server_name}"
            call(base, "POST", "/register", AS_TOKEN, json={
                "type": "m.login.application_service", "username": "ghost_1",
                "inhibit_login": True})
            call(base, "POST", f"/rooms/{room_id}/invite", user["access_token"],
                 json={"user_id": ghost})
            call(base, "POST", f"/join/{room_id}?user_id={ghost}", AS_TOKEN, json={})
        else:
            # The same room as with the service: two members (the ghost's place taken by a user).
            other = call(base, "POST", "/register", json={
                "username": "ghost_1", "password": "pw", "auth": {"type": "m.login.dummy"}})
            call(base, "POST", f"/rooms/{room_id}/invite", user["access_token"],
                 json={"user_id": other["user_id"]})
            call(base, "POST", f"/join/{room_id}", other["access_token"], json={})
        sent: list[str] = []
        lock = threading.Lock()

        def send(n):
            body = call(base, "PUT", f"/rooms/{room_id}/send/m.room.message/b{n}",
                        user["access_token"], json={"msgtype": "m.text", "body": f"m{n}"})
            with lock:
                sent.append(body["event_id"])

        # A client syncing meanwhile, as on any live server: its long-poll keeps each process's
        # stream listener running in both runs (the service's sender waits on it too).
        syncing = threading.Event()
        syncing.set()

        def sync_loop():
            since = call(base, "GET", "/sync", user["access_token"])["next_batch"]
            while syncing.is_set():
                since = call(base, "GET", f"/sync?timeout=2000&since={since}",
                             user["access_token"])["next_batch"]

        syncer = threading.Thread(target=sync_loop, daemon=True)
        syncer.start()
        before = recorder.transactions if recorder is not None else 0
        cpu_before = cpu_seconds(server.process.pid)
        start = time.perf_counter()
        with ThreadPoolExecutor(senders) as pool:
            list(pool.map(send, range(events)))
        send_s = time.perf_counter() - start
        syncing.clear()
        result = {"send_s": send_s, "rate": events / send_s,
                  "cpu_s": cpu_seconds(server.process.pid) - cpu_before}
        if recorder is not None:
            give_up = time.monotonic() + (1 if os.environ.get("BENCH_NO_URL") else 300)
            while time.monotonic() < give_up:
                with recorder.lock:
                    if all(e in recorder.arrivals for e in sent):
                        break
                time.sleep(0.05)
            with recorder.lock:
                missing = [e for e in sent if e not in recorder.arrivals]
                last = max([recorder.arrivals[e] for e in sent if e in recorder.arrivals],
                           default=start)
                result.update(delivered_s=last - start, missing=len(missing),
                              transactions=recorder.transactions - before)
        return result
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    without = run(args.database, args.events, args.senders, with_service=False)
    with_service = run(args.database, args.events, args.senders, with_service=True)
    print(f"{args.events} events, {args.senders} senders, {args.database}")
    print(f"  without a service: sent in {without['send_s']:.2f} s ({without['rate']:.0f}/s), "
          f"server CPU {without['cpu_s']:.1f} s")
    print(f"  with a service:    sent in {with_service['send_s']:.2f} s "
          f"({with_service['rate']:.0f}/s), server CPU {with_service['cpu_s']:.1f} s; delivered in {with_service['transactions']} "
          f"transactions, the last {with_service['delivered_s']:.2f} s after the first send; "
          f"missing {with_service['missing']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
