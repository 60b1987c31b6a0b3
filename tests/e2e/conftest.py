"""Fixtures for end-to-end tests: real gunicorn servers (usage: tests/helpers/gunicorn_server.py).
"""

from __future__ import annotations

import pytest

from helpers.gunicorn_server import GunicornServer, ServerFailed


@pytest.fixture
def start_gunicorn(database_url, tmp_path):
    """``start_gunicorn(**config_overrides)`` -> a started GunicornServer on the test database.

    ``workers=N`` sets gunicorn's worker count; other keyword arguments override the
    homeserver configuration (nested sections merge). Every server is stopped after the test.
    """
    started: list[GunicornServer] = []

    def start(**overrides) -> GunicornServer:
        server = GunicornServer(database_url, tmp_path / f"server{len(started)}", **overrides)
        started.append(server)
        try:
            return server.start()
        except ServerFailed as exc:
            pytest.fail(str(exc))

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def gunicorn_homeserver(start_gunicorn) -> GunicornServer:
    """A started gunicorn serving this checkout with the default e2e configuration."""
    return start_gunicorn()
