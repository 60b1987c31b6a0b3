"""Attack: hostile JSON bodies on every route that takes one. Property-based (hypothesis,
derandomized so CI is stable): for each PUT/POST/DELETE route of the app's url_map (media
uploads excepted: their bodies are bytes), as a registered user in a real room, send bodies that
are random JSON, the spec's example with one part replaced by a hostile value (wrong type,
huge, deep, out-of-range number), deeply nested, large, or not JSON at all. Every answer must be
a success or the standard error response (JSON with errcode); never a 5xx.

tests/conformance/test_conformance_schemathesis.py generates from the spec's schemas; this one is
about what a schema-following generator does not send.
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from helpers.api import V3, ok, q
from helpers.rooms import create_room, send_ok
from helpers.spec_operations import SpecOperation, load_openapi, matching_rule, spec_available
from helpers.error_responses import TokenKeeper, acceptable_problem, rule_path

# A deeper local run: FUZZ_EXAMPLES=100 pytest tests/security/test_fuzz_json_bodies.py
EXAMPLES_PER_ROUTE = int(os.environ.get("FUZZ_EXAMPLES", "8"))
SKIPPED_PREFIXES = ("/_matrix/media/", "/_matrix/client/v1/media/")

scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**63)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def deep(levels: int, opener: str = "[") -> str:
    closer = "]" if opener == "[" else "}"
    inner = '{"a":' if opener == "{" else "["
    return inner * levels + "1" + closer * levels


HOSTILE_VALUES = st.sampled_from([
    None, True, -1, 0, 2**53, 2**63, -(2**63) - 1, 1.5, "", "x" * 70_000, "\u00b2",
    "@bob\n:localhost:8008", "!room:localhost:8008\n", [], {}, [[]], {"": {}}, [None] * 500,
    {str(i): i for i in range(300)}, "\x00", "\ud800",
])

RAW_BODIES = st.sampled_from([
    b"", b"null", b"[]", b'"text"', b"1", b"{", b'{"a": NaN}', b'{"a": Infinity}',
    b"\xff\xfe{}", b"\xef\xbb\xbf{}", b'{"a": "\\ud800"}', b'{"a": 1, "a": {}}',
    deep(101, "{").encode(), deep(101).encode(), deep(5000).encode(), deep(200_000).encode(),
    ('{"big": "' + "x" * 300_000 + '"}').encode(), json.dumps([{}] * 20_000).encode(),
])


def paths_of(value, prefix=()):
    """Every path into a JSON value (keys and indexes), the value itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from paths_of(sub, prefix + (key,))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from paths_of(sub, prefix + (index,))


def replaced(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy


def spec_body_examples(app) -> dict:
    """(rule, method) -> the spec's example body for the operation that rule serves: the
    schema's example, or its properties with their examples (or "x")."""
    found = {}
    if not spec_available():
        return found
    for path, item in load_openapi()["paths"].items():
        for method, operation in item.items():
            if method.upper() not in ("PUT", "POST", "DELETE") or not isinstance(operation, dict):
                continue
            spec = SpecOperation(method.upper(), path, operation["operationId"], "none", False)
            rule = matching_rule(app, spec.method, spec.concrete_path())
            content = (operation.get("requestBody") or {}).get("content") or {}
            schema = (content.get("application/json") or {}).get("schema") or {}
            example = schema.get("example")
            if not isinstance(example, dict):
                example = {key: prop.get("example", "x") if isinstance(prop, dict) else "x"
                           for key, prop in (schema.get("properties") or {}).items()}
            if rule is not None:
                found[(rule.rule, spec.method)] = example
    return found


def localized(value, ids: dict):
    """The example with its user, room and event IDs (values and keys) replaced by real ones,
    so that hostile parts get past "not found" into the code that reads them."""
    def swap(text):
        return ids.get(text[:1], text) if isinstance(text, str) and ":" in text else text
    if isinstance(value, dict):
        return {swap(k): localized(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [localized(v, ids) for v in value]
    return swap(value)


def bodies_for(example: dict):
    """Hostile bodies: raw bytes, random JSON, or the example with one part replaced."""
    paths = list(paths_of(example))
    mutated = st.builds(lambda path, new: json.dumps(replaced(example, path, new)).encode(),
                        st.sampled_from(paths), HOSTILE_VALUES | json_values)
    random_object = st.dictionaries(st.sampled_from(sorted(example) or ["a"]) | st.text(max_size=8),
                                    json_values, max_size=5)
    return (RAW_BODIES | mutated | mutated
            | random_object.map(lambda v: json.dumps(v).encode())
            | json_values.map(lambda v: json.dumps(v).encode()))


def body_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule.startswith(SKIPPED_PREFIXES) or rule.rule.startswith("/static"):
            continue
        for method in ("PUT", "POST", "DELETE"):
            if method in rule.methods:
                yield rule, method


@pytest.mark.filterwarnings("ignore")
def test_hostile_bodies_never_crash_a_route(app, client, register_user):
    tokens = TokenKeeper(client, register_user)
    owner = tokens.user
    room_id = create_room(owner, preset="public_chat")
    event_id = send_ok(owner, room_id, "target")
    failures: list[str] = []
    examples = spec_body_examples(app)

    for rule, method in body_routes(app):
        tokens.headers()
        user = tokens.user
        ok(user.post(f"{V3}/join/{q(room_id)}", json={}))
        path = rule_path(rule, {"user_id": user.user_id, "room_id": room_id,
                                "event_id": event_id, "device_id": user.device_id,
                                "room_id_or_alias": room_id})
        example = localized(examples.get((rule.rule, method), {}),
                            {"@": user.user_id, "!": room_id, "$": event_id})

        @settings(max_examples=EXAMPLES_PER_ROUTE, derandomize=True, deadline=None,
                  database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(body=bodies_for(example))
        def attack(body):
            response = client.open(path, method=method, data=body,
                                   headers={**user.headers, "Content-Type": "application/json"})
            problem = acceptable_problem(response)
            if problem and len(failures) < 50:
                failures.append(f"{method} {path} body {body[:120]!r}: {problem}")

        attack()
    assert not failures, f"{len(failures)} bad answer(s):\n" + "\n".join(failures)

