"""Compare a SyTest run (its summary.json) with tests/sytest/expected-failures.txt.

    python tests/sytest/check.py SUMMARY.json [--list FILE]
    python tests/sytest/check.py SUMMARY.json --update [--list FILE]

Exit status 1 when a test that is not on the list failed, or when a listed test passed (take
it off the list: the list only shrinks); entries whose reason starts with ``flaky:`` may do
either. Tests that did not run (skipped for lack of federation or of a prerequisite, or not
selected) count as neither. ``--update`` rewrites the list from the run: the tests that failed,
with the reasons the list already gives them and ``TODO`` for new ones; it keeps the flaky
entries that passed this time and the entries for tests this run did not reach.

List format (see tests/sytest/README.md): one test per line, ``<file> :: <name>  # <reason>``;
blank lines and lines starting with ``#`` are comments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections import Counter, OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_LIST = os.path.join(HERE, "expected-failures.txt")
SEPARATOR = " :: "
REASON_MARK = "  # "
REASON_KINDS = ("feature", "deprecated", "spec", "bug", "flaky", "TODO")

Key = tuple  # (file, name)


class ListError(Exception):
    pass


def parse_line(line: str, lineno: int) -> tuple[Key, str] | None:
    text = line.rstrip("\n")
    if not text.strip() or text.lstrip().startswith("#"):
        return None
    test, mark, reason = text.partition(REASON_MARK)
    if not mark or not reason.strip():
        raise ListError(f"line {lineno}: no reason (expected '<file> :: <name>  # <reason>')")
    file, sep, name = test.strip().partition(SEPARATOR)
    if not sep or not file or not name:
        raise ListError(f"line {lineno}: expected '<file> :: <name>  # <reason>'")
    reason = reason.strip()
    if reason.split(":", 1)[0] not in REASON_KINDS:
        raise ListError(f"line {lineno}: reason must start with one of "
                        f"{', '.join(k + ':' for k in REASON_KINDS)}")
    return (file, name), reason


def read_list(path: str) -> tuple[list[str], "OrderedDict[Key, str]"]:
    """The header comment lines, and the entries in file order."""
    header: list[str] = []
    entries: "OrderedDict[Key, str]" = OrderedDict()
    if not os.path.exists(path):
        return header, entries
    with open(path, encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            parsed = parse_line(line, lineno)
            if parsed is None:
                if not entries and line.startswith("#"):
                    header.append(line.rstrip("\n"))
                continue
            key, reason = parsed
            if key in entries:
                raise ListError(f"line {lineno}: {key[0]} :: {key[1]} is listed twice")
            entries[key] = reason
    return header, entries


_SUBTESTS = re.compile(r" \([0-9]+ subtests\)$")


def read_run(path: str) -> tuple[dict, "OrderedDict[Key, str]"]:
    """The run's totals and each test's status (pass, fail, skip:..., expected_fail)."""
    with open(path, encoding="utf-8") as handle:
        summary = json.load(handle)
    statuses: "OrderedDict[Key, str]" = OrderedDict()
    for test in summary["tests"]:
        # A multi_test that passes is named with " (N subtests)" after its name; one that
        # fails is not: the key is the name without it, so a fixed one is seen as passing.
        key = (test["file"], _SUBTESTS.sub("", test["name"]))
        status = test["status"]
        # A name repeated in one file: one failure of it makes it a failure.
        if statuses.get(key) in ("fail", "expected_fail"):
            continue
        statuses[key] = status
    return summary, statuses


def is_failure(status: str) -> bool:
    return status in ("fail", "expected_fail")


def compare(entries, statuses):
    unexpected = [k for k, s in statuses.items() if is_failure(s) and k not in entries]
    fixed = [k for k, s in statuses.items()
             if s == "pass" and k in entries and not entries[k].startswith("flaky:")]
    return unexpected, fixed


def format_line(key: Key, reason: str) -> str:
    return f"{key[0]}{SEPARATOR}{key[1]}{REASON_MARK}{reason}"


def update(path: str, header, entries, statuses) -> int:
    new: "OrderedDict[Key, str]" = OrderedDict()
    for key, reason in entries.items():
        status = statuses.get(key)
        if status is None or not status.startswith(("pass", "fail", "expected_fail")):
            new[key] = reason            # not reached by this run: keep
        elif is_failure(status) or reason.startswith("flaky:"):
            new[key] = reason
    added = 0
    for key, status in statuses.items():
        if is_failure(status) and key not in new:
            new[key] = "TODO"
            added += 1
    ordered = sorted(new.items(), key=lambda item: item[0])
    with open(path, "w", encoding="utf-8") as handle:
        for line in header:
            handle.write(line + "\n")
        if header:
            handle.write("\n")
        for key, reason in ordered:
            handle.write(format_line(key, reason) + "\n")
    removed = len(entries) - (len(new) - added)
    print(f"{path}: {len(new)} entries ({added} new marked TODO, {removed} removed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("summary", help="summary.json of a SyTest run (run.sh writes it)")
    parser.add_argument("--list", default=DEFAULT_LIST, help="the expected-failures list")
    parser.add_argument("--update", action="store_true", help="rewrite the list from this run")
    args = parser.parse_args(argv)
    try:
        header, entries = read_list(args.list)
    except ListError as exc:
        print(f"{args.list}: {exc}", file=sys.stderr)
        return 2
    summary, statuses = read_run(args.summary)
    if args.update:
        return update(args.list, header, entries, statuses)

    unexpected, fixed = compare(entries, statuses)
    totals = summary.get("totals", {})
    failed_keys = [k for k, s in statuses.items() if is_failure(s)]
    kinds = Counter(entries[k].split(":", 1)[0] for k in failed_keys if k in entries)
    print(f"sytest check: run {totals.get('passed')} passed, {totals.get('failed')} failed; "
          f"{len(failed_keys) - len(unexpected)} failures listed ("
          + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common()) + ")")
    if not summary.get("finished", True):
        print("sytest check: the run did not finish (see progress.log)")
    if unexpected:
        print(f"\nFAILED, not on the list ({len(unexpected)}): fix them, or list them with a "
              f"reason in {os.path.relpath(args.list)}")
        for key in unexpected:
            print("  " + format_line(key, "TODO"))
    if fixed:
        print(f"\nPASSED, but listed as failing ({len(fixed)}): take them off the list "
              f"(or run with --update)")
        for key in fixed:
            print("  " + format_line(key, entries[key]))
    if unexpected or fixed or not summary.get("finished", True):
        return 1
    print("sytest check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
