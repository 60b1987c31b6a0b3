"""tests/sytest/check.py: a SyTest run compared with the expected-failures list."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), os.pardir, "sytest", "check.py")
_spec = importlib.util.spec_from_file_location("sytest_check", _PATH)
check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check)

F = "tests/10apidoc/01register.pl"


def _run(tmp_path, statuses: dict) -> str:
    tests = [{"file": F, "name": name, "status": status} for name, status in statuses.items()]
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"finished": True, "totals": {}, "tests": tests}))
    return str(path)


def _list(tmp_path, text: str) -> str:
    path = tmp_path / "expected-failures.txt"
    path.write_text("# header\n\n" + text)
    return str(path)


def test_listed_failures_pass_the_check(tmp_path, capsys):
    lst = _list(tmp_path, f"{F} :: a  # bug: x\n{F} :: b  # flaky: timing\n")
    run = _run(tmp_path, {"a": "fail", "b": "pass", "c": "pass", "d": "skip:federation"})
    assert check.main([run, "--list", lst]) == 0
    assert "sytest check: OK" in capsys.readouterr().out


def test_new_failure_and_fixed_test_fail_the_check(tmp_path, capsys):
    lst = _list(tmp_path, f"{F} :: a  # bug: x\n")
    run = _run(tmp_path, {"a": "pass", "b": "fail"})
    assert check.main([run, "--list", lst]) == 1
    out = capsys.readouterr().out
    assert f"{F} :: b  # TODO" in out and f"{F} :: a  # bug: x" in out


def test_a_passing_multi_test_is_matched_without_its_subtest_count(tmp_path, capsys):
    """SyTest names a passing multi_test "name (N subtests)", a failing one just "name"."""
    lst = _list(tmp_path, f"{F} :: multi  # bug: x\n")
    run = _run(tmp_path, {"multi (3 subtests)": "pass"})
    assert check.main([run, "--list", lst]) == 1
    assert f"{F} :: multi  # bug: x" in capsys.readouterr().out


def test_update_keeps_reasons_and_marks_new_ones_todo(tmp_path):
    lst = _list(tmp_path, f"{F} :: a  # bug: x\n{F} :: gone  # spec: y\n"
                          f"{F} :: notrun  # feature: z (issue 13)\n")
    run = _run(tmp_path, {"a": "fail", "gone": "pass", "new": "fail",
                          "notrun": "skip:prerequisite"})
    assert check.main([run, "--list", lst, "--update"]) == 0
    _, entries = check.read_list(lst)
    assert dict(entries) == {(F, "a"): "bug: x", (F, "new"): "TODO",
                             (F, "notrun"): "feature: z (issue 13)"}
    assert open(lst).read().startswith("# header\n")


@pytest.mark.parametrize("line", [f"{F} :: a", f"{F} :: a  # because", "a  # bug: x"])
def test_malformed_lines_are_refused(tmp_path, line):
    with pytest.raises(check.ListError):
        check.read_list(_list(tmp_path, line + "\n"))


def test_the_projects_list_parses():
    _, entries = check.read_list(check.DEFAULT_LIST)
    assert entries
