"""What a well-formed answer to a bad request is, and a request path for any route of the app
(the error-response walk in tests/conformance and the fuzzing in tests/security)."""

from __future__ import annotations

from helpers.spec_operations import plausible_value, standard_error_problem_parts

CAPABILITIES = "/_matrix/client/v3/capabilities"
CHECKED_METHODS = ("GET", "PUT", "POST", "DELETE")


def standard_error_problem(response) -> str | None:
    """Why ``response`` is not a well-formed error answer, or None when it is one."""
    return standard_error_problem_parts(
        response.status_code, response.headers.get("Content-Type"),
        response.headers.get("Access-Control-Allow-Origin"),
        response.get_json(silent=True), response.get_data()[:200])


def acceptable_problem(response) -> str | None:
    """Success or a well-formed error; anything else (5xx, HTML error page...) is a problem."""
    if response.status_code < 400:
        return None
    return standard_error_problem(response)


def rule_path(rule, overrides: dict | None = None) -> str:
    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        items = getattr(converter, "items", None)
        if items:
            values[name] = sorted(items)[-1]
        else:
            values[name] = (overrides or {}).get(name, plausible_value(name))
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build a path for {rule.rule}"
    return built[1]


class TokenKeeper:
    """A user's token, replaced by a new registration when a request has logged it out."""

    def __init__(self, client, register_user):
        self.client = client
        self.register_user = register_user
        self.user = register_user()

    def headers(self) -> dict:
        if self.client.get(CAPABILITIES, headers=self.user.headers).status_code == 401:
            self.user = self.register_user()
        return self.user.headers


def routed_requests(app):
    """(rule, method, path) for every rule and every method it serves."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in CHECKED_METHODS:
            if method in rule.methods:
                yield rule, method
