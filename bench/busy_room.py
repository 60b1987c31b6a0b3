"""bench/bench.py's busy-room step: the big room's members all connected (a long-poll each)
while two of them chat, so that every message wakes every member."""

from __future__ import annotations

import json
import threading
import time

import requests

from procstats import IdlePolls, settle
from report import pct


def busy_room(setup, give_up_s: float) -> dict:
    """Two members of ``setup``'s big room chat at ``--busy-rate`` messages/s for
    ``--busy-seconds`` while every member holds a long-poll; one more member (the lazy reader)
    times how long each message takes to reach it. Returns the send rate (events/s), the
    sends' latencies and the deliveries (seconds), and the failed sends, polls and deliveries
    (a delivery not seen within ``give_up_s`` after the chat failed)."""
    args, api = setup.args, setup.api
    members = setup.crowd[:args.members]
    polls = IdlePolls(setup.server, setup.idle_sessions(len(members)), args.poll_timeout * 1000)
    polls.start()
    settle({setup.server.name: polls}, args.settle, args.settle_max)
    watcher = api.login(setup.lazy_reader)
    since = api.call("GET", "/sync", watcher, params={"timeout": 0})["next_batch"]
    latencies, sent_at, seen_at, failed = [], {}, {}, [0]
    end = time.monotonic() + args.busy_seconds
    # Set once both chatters are done: a chatter's last send may start after ``end``.
    chat_done = threading.Event()

    def chatter(user, offset):
        n, next_at = 0, time.monotonic() + offset
        while time.monotonic() < end:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at += 2 / args.busy_rate
            label = f"busy {user['user_id']} {n}"
            n += 1
            sent_at[label] = start = time.perf_counter()
            try:
                api.send(user["access_token"], setup.big_room, label, timeout=give_up_s)
                latencies.append(time.perf_counter() - start)
            except (RuntimeError, requests.RequestException):
                failed[0] += 1

    def watch(since):
        timeline = json.dumps({"room": {"timeline": {"limit": 100}}})
        while time.monotonic() < end + give_up_s:
            try:
                body = api.call("GET", "/sync", watcher, params={
                    "since": since, "timeout": 5000, "filter": timeline}, timeout=give_up_s)
            except (RuntimeError, requests.RequestException):
                failed[0] += 1
                continue
            since, now = body["next_batch"], time.perf_counter()
            room = body.get("rooms", {}).get("join", {}).get(setup.big_room, {})
            for event in room.get("timeline", {}).get("events", []):
                seen_at.setdefault(event.get("content", {}).get("body"), now)
            if chat_done.is_set() and all(label in seen_at for label in sent_at):
                return

    threads = [threading.Thread(target=watch, args=(since,))] + [
        threading.Thread(target=chatter, args=(user, offset))
        for user, offset in ((members[0], 0.0), (members[1], 1 / args.busy_rate))]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join()
    chat_done.set()
    rate = len(latencies) / (time.perf_counter() - started)
    threads[0].join()
    polls.stop()
    deliveries = [seen_at[label] - at for label, at in sent_at.items() if label in seen_at]
    return {"rate": rate, "latencies": latencies, "deliveries": deliveries,
            "failed": float(failed[0] + polls.errors + len(sent_at) - len(deliveries))}


def run_busy_room(setups: dict, args, record, database: str, give_up_s: float) -> None:
    """The step on each server in turn (like the send burst, it saturates the machine);
    ``record(figure, {server name: value})``."""
    for name, setup in setups.items():
        print(f"[{database}] busy room on {name} ...", flush=True)
        busy = busy_room(setup, give_up_s)
        prefix = f"busy room, {args.members} members polling"
        record(f"{prefix}: messages sent (events/s)", {name: busy["rate"]})
        record(f"{prefix}: send latency p50 (ms)", {name: pct(busy["latencies"], 50)})
        record(f"{prefix}: send latency p99 (ms)", {name: pct(busy["latencies"], 99)})
        record(f"{prefix}: delivery to a member p95 (ms)", {name: pct(busy["deliveries"], 95)})
        record(f"{prefix}: failed polls and sends", {name: busy["failed"]})
