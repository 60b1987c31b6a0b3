"""The server reads wall time in one place, homeserver/clock.py, through the module attribute
(``clock.now_ms()``), so the ``clock`` fixture moves it for every module and no test has to
sleep for time to pass."""

import ast
from pathlib import Path

import homeserver
from homeserver import clock as server_clock

PACKAGE_DIR = Path(homeserver.__file__).resolve().parent

# Reads of the wall clock that are not "now" for the server's data: compared with file
# modification times, which the operating system keeps in wall-clock seconds.
FILE_TIME_READERS = {"services/media/admin.py"}


def modules():
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        yield path.relative_to(PACKAGE_DIR).as_posix(), ast.parse(path.read_text(), str(path))


def test_no_module_imports_now_ms_by_name():
    imported = [f"{name}:{node.lineno}" for name, tree in modules() for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom)
                and any(alias.name == "now_ms" for alias in node.names)]
    assert imported == []


def test_only_the_clock_reads_the_wall_clock():
    readers = []
    for name, tree in modules():
        if name == "clock.py" or name in FILE_TIME_READERS:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("time", "time_ns", "now", "utcnow")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in ("time", "datetime")):
                readers.append(f"{name}:{node.lineno}")
    assert readers == []


def test_the_clock_fixture_moves_the_servers_time(clock):
    start = server_clock.now_ms()
    clock.advance(60_000)
    assert server_clock.now_ms() == start + 60_000
