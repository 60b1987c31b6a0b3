"""HTTP glue shared by the account endpoints: user-interactive auth and the
authentication that logout allows for locked accounts. (No blueprint here.)"""

from __future__ import annotations

from flask import request
from marshmallow import Schema

from ..services.accounts import access_tokens as auth_service
from ..services.accounts import uia
from ..services.sso.settings import SsoSettings
from ..services.sso.uia_stage import offered_flows
from .http import client_ip, config, json_body, load_body, rate_rule, require_auth


def require_auth_even_if_locked() -> auth_service.Requester:
    """For logout and logout/all, which the spec keeps open to locked accounts."""
    return require_auth(allow_locked=True)


def interactive(schema: type[Schema], flows: list[list[str]], *, requester: str | None,
                params: dict | None = None, secret_fields: tuple[str, ...] = (),
                precheck=None) -> tuple[dict, uia.UiaPassed]:
    """Run user-interactive auth for this request; (validated body, passed session).

    The first leg's body is validated before the 401 (a bad request is refused first); a later
    leg (``auth.session`` given) may leave out what the first leg sent, so the body the session
    completes with is validated instead. ``precheck(body)`` runs the endpoint's own early
    checks (e.g. username taken).
    """
    raw = json_body(allow_empty=True)
    auth = raw.pop("auth", None)
    continuing = isinstance(auth, dict) and isinstance(auth.get("session"), str)
    if not continuing:
        checked = load_body(schema, raw)
        if precheck is not None:
            precheck(checked)
    # Accounts of an identity provider may confirm with it instead of (or without) a password.
    flows = offered_flows(flows, requester, SsoSettings.from_config(config()))
    passed = uia.authenticate(
        uia.UiaRequest(method=request.method, path=request.path, body=raw, auth=auth,
                       requester=requester, server_name=config().server_name,
                       failure_rule=rate_rule("login_failures_per_user"),
                       ip=client_ip(), ip_rule=rate_rule("login_per_ip")),
        flows, params=params, secret_fields=secret_fields)
    return load_body(schema, passed.body), passed
