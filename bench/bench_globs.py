"""Glob matching cost against text size, for the worst patterns (docs/security.md, "Pattern
matching"). Standalone: ``.venv/bin/python bench/bench_globs.py [--old]``.

Each row is one text size; each column the time of one evaluation through the code the
server runs: a push rule through ``push_evaluator.EventFacts`` (content rule on the body,
event_match on another key) and a filter's ``not_types`` through ``filters.EventFilter``.
Times grow linearly with the size (RE2, services/globs.py). ``--old`` adds the backtracking
Python regex the server used before, on a milder pattern and small sizes only (it grows like
size ** stars: the worst patterns never finish).
"""

from __future__ import annotations

import random
import re
import sys
import time

from homeserver.services.push.evaluator import EventFacts, compile_rule
from homeserver.services.reading.filters import EventFilter

# name -> (pattern, text of a given size): texts that never match, so all of it is read.
PUSH_PATTERNS = {
    "*a*a*a*a*a*a*b": ("*a*a*a*a*a*a*b", lambda n: "a" * n),
    "a?a?...(x25)": ("a?" * 25, lambda n: "a" * n),
    # Hardest for RE2's DFA (states double with each ?): falls back to its NFA.
    "*a?????????c": ("*a" + "?" * 9 + "c", lambda n: _mixed(n)),
}
SIZES = [1_000, 4_000, 16_000, 64_000]
REPEAT = 5


def _mixed(size: int) -> str:
    rng = random.Random(size)
    return "".join(rng.choice("ab ") for _ in range(size))


def _best(fn) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def push_time(pattern: str, body: str, key: str = "content.body") -> float:
    event = {"type": "m.room.message", "content": {"body": body, "other": body}}
    if key == "content.body":
        rule = compile_rule("content", {"rule_id": "evil", "pattern": pattern,
                                        "actions": ["notify"]})
    else:
        rule = compile_rule("override", {"rule_id": "evil", "actions": ["notify"], "conditions": [
            {"kind": "event_match", "key": key, "pattern": pattern}]})

    def run():
        # A fresh EventFacts per event, as the server does (no memo across events).
        facts = EventFacts(event, member_count=2, sender_level=lambda: 0,
                           notification_level=lambda k: 50, glob_budget=10 ** 12)
        facts.actions_for([rule], "@bob:example.org", lambda: None)
    return _best(run)


def filter_time(glob: str, event_type: str) -> float:
    event_filter = EventFilter.from_definition({"not_types": [glob]})
    return _best(lambda: event_filter.allows_type(event_type))


def old_time(stars: int, size: int) -> float:
    body = "".join(".*?" if c == "*" else re.escape(c) for c in "*a" * stars + "*b")
    regex = re.compile(rf"(?<![A-Za-z0-9_]){body}(?![A-Za-z0-9_])", re.I | re.S)
    return _best(lambda: regex.search("a" * size))


def main() -> None:
    columns = [f"push {name}" for name in PUSH_PATTERNS] + [
        "event_match other key", "filter not_types"]
    print("Time of one evaluation (ms, best of %d); text: 'a' * size, or random 'ab ' for"
          " the ? pattern after a *" % REPEAT)
    print(f"{'size':>8} | " + " | ".join(f"{c:>22}" for c in columns))
    for size in SIZES:
        text = "a" * size
        times = [push_time(p, make(size)) for p, make in PUSH_PATTERNS.values()]
        times.append(push_time("*a*a*a*a*a*a*b", text, key="content.other"))
        times.append(filter_time("*a*a*a*a*a*a*b", text))
        print(f"{size:>8} | " + " | ".join(f"{t * 1000:>22.3f}" for t in times))
    if "--old" in sys.argv:
        print("\nBefore (Python re, backtracking), '*a*a*a*b' (3 stars), ms:")
        for size in (50, 100, 200):
            print(f"{size:>8} | {old_time(3, size) * 1000:>10.2f}")


if __name__ == "__main__":
    main()
