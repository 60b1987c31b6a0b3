"""bench/bench.py's report: the table of ratios, the machine and versions, written into
docs/performance.md between its bench:begin and bench:end markers (the rest of the file is
prose, kept as it is)."""

from __future__ import annotations

import datetime
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time

import psycopg2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
BENCH_BIN = os.path.join(ROOT, ".bench-venv", "bin")
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

# --- the report ---------------------------------------------------------------------------------

def pct(values: list[float], p: int) -> float:
    """The p-th percentile of ``values`` (seconds), in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


HIGHER_IS_BETTER = ("(events/s)",)
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def ratio(metric: str, values: dict[str, float]) -> str:
    ours, theirs = values.get("homeserver"), values.get("synapse")
    if ours is None or theirs is None or "failed" in metric:
        return ""
    if not theirs:
        return "-"
    value = ours / theirs
    better = value >= 1 if metric.endswith(HIGHER_IS_BETTER) else value <= 1
    return f"{value:.2f}x" + ("" if better else " (worse)")


def machine() -> list[str]:
    def first(path, key):
        try:
            with open(path) as handle:
                for line in handle:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"

    synapse = subprocess.run(
        [os.path.join(BENCH_BIN, "python"), "-c", "import synapse; print(synapse.__version__)"],
        capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout.split(" ")[0] or "?"
    ours = subprocess.run([os.path.join(VENV_BIN, "python"), "-c",
                           "import homeserver; print(homeserver.__version__)"],
                          capture_output=True, text=True, cwd=ROOT).stdout.strip() or "?"
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip() or "?"
    try:
        conn = psycopg2.connect(POSTGRES_ADMIN)
        with conn.cursor() as cur:
            cur.execute("SHOW server_version")
            postgres = cur.fetchone()[0]
        conn.close()
    except psycopg2.Error:
        postgres = "not reachable"
    memory = first("/proc/meminfo", "MemTotal")
    return [
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs ({first('/proc/cpuinfo', 'model name')}), "
        f"{memory} RAM, {platform.system()} {platform.release()}",
        f"- this server {ours} (commit {commit}) under gunicorn.conf.py; Synapse {synapse} "
        f"(single process, .bench-venv)",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres}",
    ]


def _figure(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}" if abs(value) >= 100 else \
        f"{value:.1f}"


def render(results: dict[str, dict], args, started: float, loads: list[tuple]) -> str:
    databases = list(results)
    servers = [n for n in ("homeserver", "synapse") if args.only in (None, n)]
    header = "| figure |" + "".join(
        f" {db}: {' / '.join(servers)} |" + (" ratio |" if len(servers) == 2 else "")
        for db in databases)
    lines = [header, "|" + "---|" * (1 + len(databases) * (1 + (len(servers) == 2)))]
    metrics = list(dict.fromkeys(m for db in databases for m in results[db]))
    for metric in metrics:
        row = f"| {metric} |"
        for db in databases:
            values = results[db].get(metric, {})
            row += " " + " / ".join(
                _figure(values[n]) if n in values else "-" for n in servers) + " |"
            if len(servers) == 2:
                row += f" {ratio(metric, values)} |"
        lines.append(row)
    command = "make bench" + (f' BENCH_ARGS="{" ".join(sys.argv[1:])}"' if sys.argv[1:] else "")
    minutes = (time.time() - started) / 60
    return "\n".join([
        BEGIN,
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        f"`{command}` ({minutes:.0f} min).",
        "",
        *lines,
        "",
        "Ratio: this server / Synapse; for events/s higher is better, for everything else "
        "lower is better (\"worse\" marks a figure where Synapse is ahead).",
        "",
        *machine(),
        "- load average (1 min) at the start of each database's run and at the end: "
        + ", ".join(f"{db} {a:.1f} -> {b:.1f}" for db, a, b in loads)
        + f" on {os.cpu_count()} CPUs",
        f"- sizes: {args.senders} senders x {args.messages} messages; {args.deliveries} "
        f"deliveries; initial sync x{args.repeat}; {args.incremental} incremental syncs; "
        f"{args.history} events paged; {args.members} members, {args.big_messages} messages in "
        f"the big room; idle long-polls {', '.join(map(str, args.idle))} with a "
        f"{args.poll_timeout} s timeout, CPU over {args.idle_window} s once no poll "
        f"was answered with news for {args.settle} s (the reconnected clients' catch-up, at "
        f"most {args.settle_max:.0f} s), {args.idle_deliveries} deliveries while held",
        END,
    ])


def write_report(path: str, block: str) -> None:
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        text = "# Performance\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as handle:
        handle.write(text)
