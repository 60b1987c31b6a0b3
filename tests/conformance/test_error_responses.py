"""Every route answers bad requests with the standard error response.

Walks every rule of the app's url_map (so routes added later are covered without editing this
file), fills path variables with plausible values, and sends: no token, a token that does not
exist, a malformed JSON body, and methods the route does not allow. Each answer must be either a
success or a well-formed standard error (JSON, errcode + error strings, application/json, status
>= 400) and never a 5xx. Where the spec says an operation needs a token, the answer without one
must be 401 M_MISSING_TOKEN.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, jsonify

from helpers.error_responses import (CHECKED_METHODS, TokenKeeper, acceptable_problem,
                                     routed_requests, rule_path, standard_error_problem)
from helpers.spec_operations import operation_for, spec_available

BODY_METHODS = ("PUT", "POST", "DELETE")
MALFORMED_JSON = b'{"not": json'


def report(failures: list[str]) -> str:
    return f"{len(failures)} bad answer(s):\n" + "\n".join(failures)


def test_routes_exist(app):
    assert sum(1 for _ in routed_requests(app)) > 5


def check_without_token(app, client) -> list[str]:
    failures = []
    for rule, method in routed_requests(app):
        path = rule_path(rule)
        response = client.open(path, method=method)
        where = f"{method} {path} (rule {rule.rule}), no token"
        problem = acceptable_problem(response)
        if problem:
            failures.append(f"{where}: {problem}")
            continue
        operation = operation_for(app, rule, method)
        if operation is not None and operation.auth == "required":
            body = response.get_json(silent=True) or {}
            if response.status_code != 401 or body.get("errcode") != "M_MISSING_TOKEN":
                failures.append(f"{where}: the spec requires a token for "
                                f"{operation.operation_id}, got {response.status_code} {body}")
        elif (operation is not None and operation.operation_id not in TOKEN_REQUIRED_ANYWAY
              and (response.get_json(silent=True) or {}).get("errcode") == "M_MISSING_TOKEN"):
            # e.g. GET /directory/room/{roomAlias} once asked for a token the spec does not.
            failures.append(f"{where}: the spec requires no token for "
                            f"{operation.operation_id}, got {response.status_code}")
    return failures


# Operations the spec lets a client call without a token that this server refuses so, on
# purpose: a tokenless password change or deactivation was an account takeover through the
# UIA fallback page (docs/security.md, tests/security/test_uia_fallback_account_takeover.py).
TOKEN_REQUIRED_ANYWAY = {"changePassword", "deactivateAccount"}


def check_unknown_token(app, client) -> list[str]:
    failures = []
    headers = {"Authorization": "Bearer syt_this_token_does_not_exist"}
    for rule, method in routed_requests(app):
        path = rule_path(rule)
        response = client.open(path, method=method, headers=headers)
        where = f"{method} {path}, unknown token"
        problem = acceptable_problem(response)
        if problem:
            failures.append(f"{where}: {problem}")
            continue
        operation = operation_for(app, rule, method)
        if operation is not None and operation.auth == "required":
            body = response.get_json(silent=True) or {}
            if response.status_code != 401 or body.get("errcode") != "M_UNKNOWN_TOKEN":
                failures.append(f"{where}: expected 401 M_UNKNOWN_TOKEN for "
                                f"{operation.operation_id}, got {response.status_code} {body}")
    return failures


def check_malformed_json(app, client, tokens: TokenKeeper) -> list[str]:
    failures = []
    for rule, method in routed_requests(app):
        if method not in BODY_METHODS:
            continue
        headers = tokens.headers()
        path = rule_path(rule, {"user_id": tokens.user.user_id})
        response = client.open(path, method=method, headers=headers, data=MALFORMED_JSON,
                               content_type="application/json")
        where = f"{method} {path}, malformed JSON"
        problem = acceptable_problem(response)
        if problem:
            failures.append(f"{where}: {problem}")
            continue
        operation = operation_for(app, rule, method)
        if operation is not None and operation.json_body_required and response.status_code < 400:
            failures.append(f"{where}: {operation.operation_id} takes a JSON body, but a "
                            f"malformed one was accepted ({response.status_code})")
    return failures


def check_wrong_methods(app, client) -> list[str]:
    failures = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        path = rule_path(rule)
        for method in CHECKED_METHODS + ("PATCH",):
            if adapter.test(path, method=method):
                continue
            response = client.open(path, method=method)
            where = f"{method} {path} (rule {rule.rule}), method not allowed"
            problem = standard_error_problem(response)
            if problem:
                failures.append(f"{where}: {problem}")
            elif (response.status_code, response.get_json()["errcode"]) != (405, "M_UNRECOGNIZED"):
                failures.append(f"{where}: expected 405 M_UNRECOGNIZED, got "
                                f"{response.status_code} {response.get_json()}")
    return failures


def test_every_route_without_token(app, client):
    failures = check_without_token(app, client)
    assert not failures, report(failures)


def test_every_route_with_unknown_token(app, client):
    failures = check_unknown_token(app, client)
    assert not failures, report(failures)


def test_every_route_with_malformed_json(app, client, register_user):
    failures = check_malformed_json(app, client, TokenKeeper(client, register_user))
    assert not failures, report(failures)


def test_every_route_with_wrong_method(app, client):
    failures = check_wrong_methods(app, client)
    assert not failures, report(failures)


def test_the_checks_catch_bad_routes(make_app, register_user):
    """The walkers above do find routes that answer badly (so they cannot pass vacuously)."""
    app = make_app()
    bad = Blueprint("bad_routes_for_test", __name__)

    @bad.get("/_matrix/client/v3/_test_html_error/<user_id>")
    def html_error(user_id):
        return "<h1>Bad</h1>", 400

    @bad.post("/_matrix/client/v3/_test_crash")
    def crash():
        raise RuntimeError("boom")

    @bad.post("/_matrix/client/v3/_test_ignores_body")
    def ignores_body():
        return jsonify({})

    app.register_blueprint(bad)
    client = app.test_client()
    failures = "\n".join(check_without_token(app, client))
    assert "_test_html_error" in failures and "Content-Type" in failures
    assert "_test_crash" in failures and "status 500" in failures
    failures = "\n".join(check_malformed_json(app, client, TokenKeeper(client, register_user)))
    assert "_test_crash" in failures
    assert "_test_ignores_body" not in failures  # no spec operation says it takes a body


@pytest.mark.parametrize("path", ["/_matrix/client/v3/no_such_endpoint",
                                  "/_matrix/client/v3/rooms",
                                  "/_matrix/client/unknown_version/login",
                                  "/no/such/path"])
def test_unknown_paths(client, path):
    for method in CHECKED_METHODS:
        response = client.open(path, method=method)
        assert standard_error_problem(response) is None, (method, path)
        assert response.status_code == 404
        assert response.get_json()["errcode"] == "M_UNRECOGNIZED"


def test_options_preflight_answers_every_route(app, client):
    for rule in app.url_map.iter_rules():
        response = client.open(rule_path(rule), method="OPTIONS")
        assert response.status_code == 200, rule.rule
        assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_spec_is_present_for_auth_checks():
    if not spec_available():
        pytest.skip("the Matrix spec is not present (../shared/spec or $MATRIX_SPEC_DIR): "
                    "the checks that compare routes with the spec's operations were skipped")
