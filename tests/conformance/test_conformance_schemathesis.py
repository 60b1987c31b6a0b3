"""Schemathesis over the spec's Client-Server OpenAPI document, for the operations this server
routes.

The operation list is derived from the app's url_map matched against the spec's paths
(tests/helpers/spec_operations.py), so it widens by itself as routes land. For each operation a
bounded, derandomized batch of requests is generated from the spec (valid data, then data that
violates the schema) and sent to the WSGI app as a registered user; half of the cases use
identifiers that exist (the user's own ID, a room it is in, an event of that room, its device) so
that requests get past "not found". Each answer must:
- never be a 5xx;
- when an error, be the standard error response (JSON, errcode + error) or a UIA challenge;
- match the spec's response schema for its status code.

Known failures of operations owned by work in progress are listed in KNOWN_FAILURES (xfail, not
strict: they turn green silently when fixed, and the list is meant to shrink).
"""

from __future__ import annotations

import os

import pytest
from flask import Flask

from helpers.spec_operations import (OPENAPI_PATH, implemented_operations, spec_available,
                             standard_error_problem_parts)

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

# Examples per operation and generation mode: enough to exercise each operation's shapes while
# keeping the whole run to a few seconds per operation.
POSITIVE_EXAMPLES = 10
NEGATIVE_EXAMPLES = 5

# operationId -> why it is expected to fail for now (see the module docstring).
KNOWN_FAILURES: dict[str, str] = {}

# Long-polling operations are asked not to wait (GET /events waits 30 s without a timeout).
NO_WAIT_QUERY = {"timeout": 0}
LONG_POLL_PATHS = {"/_matrix/client/v3/events", "/_matrix/client/v3/sync"}


def _routed_operation_ids() -> list[str]:
    """Operations the app routes; the routes alone need no database, so a bare Flask app with a
    default configuration will do."""
    if not spec_available():
        return []
    from homeserver.api import register_blueprints
    from homeserver.config import load_config

    bare = Flask("routes_only")
    bare.config["HOMESERVER"] = load_config(path=os.devnull, environ={})
    register_blueprints(bare)
    return sorted({op.operation_id for op in implemented_operations(bare)})


ROUTED = _routed_operation_ids()

pytestmark = pytest.mark.skipif(
    not spec_available(),
    reason=f"THE MATRIX SPEC IS NOT AT {OPENAPI_PATH} (set MATRIX_SPEC_DIR): no conformance run")


@pytest.fixture(scope="module")
def spec_schema():
    return schemathesis.openapi.from_path(str(OPENAPI_PATH))


class World:
    """A registered user with a room, an event and a device, re-made if a case logs it out."""

    def __init__(self, client, register_user):
        self.client = client
        self.register_user = register_user
        self.renew()

    def renew(self):
        self.user = self.register_user()
        headers = self.user.headers
        response = self.client.post("/_matrix/client/v3/createRoom", json={"name": "conformance"},
                                    headers=headers)
        self.room_id = response.get_json().get("room_id", "!missing:localhost:8008")
        response = self.client.put(
            f"/_matrix/client/v3/rooms/{self.room_id}/send/m.room.message/conformance-txn",
            json={"msgtype": "m.text", "body": "hello"}, headers=headers)
        self.event_id = (response.get_json() or {}).get("event_id", "$missing")

    def ensure_logged_in(self):
        response = self.client.get("/_matrix/client/v3/capabilities", headers=self.user.headers)
        if response.status_code == 401:
            self.renew()

    def known_path_values(self) -> dict:
        return {"userId": self.user.user_id, "roomId": self.room_id,
                "roomIdOrAlias": self.room_id, "eventId": self.event_id,
                "deviceId": self.user.device_id}


def standard_error_check(ctx, response, case):
    """Every error answer is the standard error response (or a UIA challenge)."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    content_type = response.headers.get("content-type") or response.headers.get("Content-Type")
    if isinstance(content_type, list):
        content_type = content_type[0] if content_type else None
    problem = standard_error_problem_parts(response.status_code, content_type, "*", body,
                                           response.text)
    if problem:
        raise AssertionError(f"not a standard error response: {problem}")
    return None


CHECKS = [not_a_server_error, standard_error_check, response_schema_conformance]


def _run(operation, world, client, mode, examples):
    app = client.application

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode), use_known_ids=st.booleans())
    def run(case, use_known_ids):
        world.ensure_logged_in()
        if use_known_ids and case.path_parameters:
            for name, value in world.known_path_values().items():
                if name in case.path_parameters:
                    case.path_parameters[name] = value
        if (case.query and "timeout" in case.query) or case.path in LONG_POLL_PATHS:
            case.query = {**(case.query or {}), **NO_WAIT_QUERY}
        case.headers = {**(case.headers or {}), **world.user.headers}
        response = case.call(app=app)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    statuses: list[int] = []
    try:
        run()
    except Unsatisfiable:
        # An operation without parameters or body has no invalid input to generate.
        if mode != GenerationMode.NEGATIVE:
            raise
    return statuses


@pytest.mark.parametrize("operation_id", [
    pytest.param(op_id, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[op_id], strict=False))
    if op_id in KNOWN_FAILURES else op_id
    for op_id in ROUTED])
def test_operation_conforms(operation_id, spec_schema, client, register_user):
    operation = spec_schema.find_operation_by_id(operation_id)
    world = World(client, register_user)
    _run(operation, world, client, GenerationMode.POSITIVE, POSITIVE_EXAMPLES)
    _run(operation, world, client, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES)


def test_operation_list_is_derived_from_routes():
    """The list widens with the routes: the foundation's operations are all in it."""
    for operation_id in ("getVersions", "register", "login", "getUserProfile", "setProfileField",
                         "getCapabilities", "searchUserDirectory"):
        assert operation_id in ROUTED


class _NoUser:
    headers: dict = {}


class _FixedWorld:
    """For checking the checks: no registration, no known identifiers."""

    user = _NoUser()

    def ensure_logged_in(self):
        """Nobody to log in: the checks run without a user."""

    def known_path_values(self):
        return {}


@pytest.mark.parametrize("answer", [
    ("<html>Bad request</html>", 400, {"Content-Type": "text/html"}),
    ({"errcode": "M_UNKNOWN"}, 400, {}),
    ({"versions": "v1.1"}, 200, {}),
    ({"errcode": "M_UNKNOWN", "error": "crash"}, 500, {}),
])
def test_the_checks_catch_bad_answers(spec_schema, answer):
    """A server answering badly fails this module's checks (they cannot pass vacuously)."""
    broken = Flask("broken")
    broken.add_url_rule("/_matrix/client/versions", "versions", lambda: answer)
    with pytest.raises((Exception, BaseExceptionGroup)):
        _run(spec_schema.find_operation_by_id("getVersions"), _FixedWorld(),
             broken.test_client(), GenerationMode.POSITIVE, 2)
