"""What bench/bench.py reads of a server: its processes' CPU time and memory (PSS) from /proc,
and idle clients holding long-polls open."""

from __future__ import annotations

import http.client
import json
import os
import selectors
import threading
import time

# --- the server's processes: CPU time and memory ------------------------------------------------

def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (gunicorn: the master and its workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, ()))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server's processes so far."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def pss_mib(pid: int) -> float:
    """Proportional set size of all the server's processes: shared pages counted once."""
    total_kib = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total_kib += int(line.split()[1])
                        break
        except OSError:
            continue
    return total_kib / 1024


class IdlePolls:
    """``len(tokens)`` long-polling /sync requests held open from one thread (one connection
    each, re-issued when one returns), as idle clients do: nothing to say, waiting."""

    def __init__(self, server, sessions: list[tuple[str, str]], timeout_ms: int):
        self.server = server
        self.sessions = sessions  # (access token, since)
        self.timeout_ms = timeout_ms
        self.selector = selectors.DefaultSelector()
        self.errors = 0
        self.answered = 0
        self.news = 0  # answers that carried something (not a timed-out poll's empty answer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _issue(self, conn: http.client.HTTPConnection, index: int) -> None:
        token, since = self.sessions[index]
        conn.request("GET", f"/_matrix/client/v3/sync?since={since}&timeout={self.timeout_ms}",
                     headers={"Authorization": f"Bearer {token}"})

    def start(self) -> None:
        for index in range(len(self.sessions)):
            conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=120)
            self._issue(conn, index)
            self.selector.register(conn.sock, selectors.EVENT_READ, (conn, index))
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, _ in self.selector.select(0.2):
                conn, index = key.data
                self.selector.unregister(key.fileobj)
                try:
                    response = conn.getresponse()
                    body = response.read()
                    self.answered += 1
                    if response.status == 200:
                        token = self.sessions[index][0]
                        answer = json.loads(body)
                        self.sessions[index] = (token, answer["next_batch"])
                        rooms = answer.get("rooms") or {}
                        if (any(rooms.get(kind) for kind in ("join", "invite", "knock", "leave"))
                                or answer.get("presence", {}).get("events")):
                            self.news += 1
                    else:
                        self.errors += 1
                except (OSError, http.client.HTTPException, ValueError):
                    self.errors += 1
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                                      timeout=120)
                if self._stop.is_set():
                    break
                try:
                    self._issue(conn, index)
                    self.selector.register(conn.sock, selectors.EVENT_READ, (conn, index))
                except OSError:
                    self.errors += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        for key in list(self.selector.get_map().values()):
            key.data[0].close()
        self.selector.close()


def settle(polls: dict, quiet_s: float, max_s: float) -> float:
    """Wait until no held poll has been answered with news for ``quiet_s`` (at most
    ``max_s``); the seconds waited. Clients connecting at once first catch up on what happened since their
    tokens (their presence, in a room they share): idle is measured after that."""
    start = last_change = time.monotonic()
    seen = None
    while time.monotonic() - start < max_s:
        answered = sum(holder.news for holder in polls.values())
        if answered != seen:
            seen, last_change = answered, time.monotonic()
        elif time.monotonic() - last_change >= quiet_s:
            break
        time.sleep(0.5)
    return time.monotonic() - start
