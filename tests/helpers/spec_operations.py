"""The spec's Client-Server operations, matched against the app's routes.

Used by the conformance tests (tests/conformance/test_error_responses.py and
test_conformance_schemathesis.py) so that their coverage widens by itself as routes land: an
operation counts as implemented when the app's url_map routes its method and path (path
parameters filled with plausible values).

The spec is read from $MATRIX_SPEC_DIR, by default ../shared/spec next to the repository.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from werkzeug.exceptions import HTTPException

from homeserver.errors import OWN_NAMESPACE

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_DIR = Path(os.environ.get("MATRIX_SPEC_DIR", REPO_ROOT.parent / "shared" / "spec"))
OPENAPI_PATH = SPEC_DIR / "client-server-openapi.json"

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# Plausible values for path parameters, by name (spec camelCase or Flask snake_case).
# Unknown names fall back to DEFAULT_VALUE.
PLAUSIBLE_VALUES = {
    "userid": "@nobody:localhost:8008",
    "roomid": "!nonexistent:localhost:8008",
    "roomidoralias": "!nonexistent:localhost:8008",
    "roomalias": "#nonexistent:localhost:8008",
    "alias": "#nonexistent:localhost:8008",
    "eventid": "$nonexistent",
    "eventtype": "m.room.message",
    "type": "m.example",
    "statekey": "x",
    "txnid": "txn1",
    "deviceid": "NODEVICE",
    "keyname": "displayname",
    "servername": "localhost:8008",
    "mediaid": "nonexistent",
    "filterid": "1",
    "tag": "u.work",
    "authtype": "m.login.dummy",
    "loginType": "m.login.password",
    "receipttype": "m.read",
    "reltype": "m.annotation",
    "scope": "global",
    "kind": "override",
    "ruleid": "nonexistent",
    "version": "1",
    "protocol": "irc",
    "width": "32",
    "height": "32",
    "filename": "file.txt",
    "algorithm": "signed_curve25519",
}
DEFAULT_VALUE = "x"


def plausible_value(name: str) -> str:
    key = name.replace("_", "").lower()
    return PLAUSIBLE_VALUES.get(key, DEFAULT_VALUE)


def spec_available() -> bool:
    return OPENAPI_PATH.is_file()


@lru_cache(maxsize=1)
def load_openapi() -> dict:
    with open(OPENAPI_PATH, encoding="utf-8") as handle:
        return json.load(handle)


@dataclass(frozen=True)
class SpecOperation:
    method: str          # upper case
    path: str            # OpenAPI template, e.g. /_matrix/client/v3/profile/{userId}
    operation_id: str
    auth: str            # "required", "optional" or "none"
    json_body_required: bool

    def concrete_path(self, values: dict | None = None) -> str:
        values = values or {}

        def fill(match):
            name = match.group(1)
            return quote(values.get(name, plausible_value(name)), safe="")

        return re.sub(r"\{([^}]+)\}", fill, self.path)


def _auth_of(operation: dict) -> str:
    security = operation.get("security")
    if not security:
        return "none"
    return "optional" if any(not scheme for scheme in security) else "required"


def _json_body_required(operation: dict) -> bool:
    body = operation.get("requestBody") or {}
    return bool(body.get("required")) and "application/json" in (body.get("content") or {})


@lru_cache(maxsize=1)
def spec_operations() -> tuple[SpecOperation, ...]:
    found = []
    for path, item in load_openapi()["paths"].items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            found.append(SpecOperation(method.upper(), path, operation["operationId"],
                                       _auth_of(operation), _json_body_required(operation)))
    return tuple(found)


def matching_rule(app, method: str, path: str):
    """The url_map rule that would serve ``method path``, or None."""
    adapter = app.url_map.bind("localhost")
    try:
        rule, _ = adapter.match(path, method=method, return_rule=True)
    except HTTPException:
        return None
    return rule


def implemented_operations(app) -> list[SpecOperation]:
    """The spec operations this app routes (ignoring the generic OPTIONS pre-flight answer)."""
    return [op for op in spec_operations()
            if op.method != "OPTIONS" and matching_rule(app, op.method, op.concrete_path())]


def operation_for(app, rule, method: str) -> SpecOperation | None:
    """The spec operation a url_map rule serves for ``method``, if any."""
    if not spec_available():
        return None
    for op in spec_operations():
        if op.method == method and matching_rule(app, method, op.concrete_path()) is rule:
            return op
    return None


# --- the standard error response ----------------------------------------------------------------

ERRCODE = re.compile(rf"^(M_[A-Z0-9_]+|{re.escape(OWN_NAMESPACE)}_[A-Z0-9][A-Z0-9_]*)$")


def standard_error_problem_parts(status: int, content_type: str | None, cors_origin: str | None,
                                 body, raw=b"") -> str | None:
    """Why an answer is not a well-formed error response, or None when it is one. A UIA
    challenge (401 with ``flows``) is one too: it is the spec's answer there."""
    if status < 400:
        return f"status {status} is not an error status"
    if status >= 500:
        return f"status {status} (server error)"
    if content_type != "application/json":
        return f"Content-Type is {content_type!r}"
    if cors_origin != "*":
        return "no CORS header"
    if not isinstance(body, dict):
        return f"body is not a JSON object: {raw!r}"
    if status == 401 and "flows" in body:
        if not isinstance(body["flows"], list):
            return f"UIA body with non-list flows: {body}"
        if "errcode" not in body:
            return None
    if not isinstance(body.get("errcode"), str) or not isinstance(body.get("error"), str):
        return f"body lacks errcode/error strings: {body}"
    if not ERRCODE.match(body["errcode"]):
        return f"errcode {body['errcode']!r} is not namespaced"
    return None
