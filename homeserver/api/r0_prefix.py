"""The ``r0`` prefix: every client endpoint that existed in the r0 releases of the
Client-Server API is served at ``/_matrix/client/r0/...`` too, as an alias of its ``v3`` path
(the spec renamed r0 to v3 in v1.1 without changing the endpoints; Synapse serves both, and
clients, bots and SyTest written against r0 still call it).

Endpoints the spec added in v1.1 or later (``x-addedInMatrixVersion`` in their OpenAPI
definition) never had an r0 path, so they get none; nor do the ``v1``-only endpoints, which are
not under ``v3`` at all. ``tests/unit/test_r0_prefix.py`` checks ``POST_R0`` against the spec.
(No blueprint here: ``register_blueprints`` calls ``add_r0_aliases`` once every blueprint is
registered, so this is the one place the rule lives.)
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import Rule

from .http import CLIENT_PREFIX

V3 = f"{CLIENT_PREFIX}/v3/"
R0 = f"{CLIENT_PREFIX}/r0/"

# (method, path after /v3 with every path parameter written {}) of the v3 operations the spec
# added in v1.1 or later.
POST_R0: frozenset[tuple[str, str]] = frozenset({
    ("POST", "/keys/device_signing/upload"),
    ("POST", "/keys/signatures/upload"),
    ("POST", "/room_keys/version"),
    ("GET", "/room_keys/version"),
    ("GET", "/room_keys/version/{}"),
    ("PUT", "/room_keys/version/{}"),
    ("DELETE", "/room_keys/version/{}"),
    ("PUT", "/room_keys/keys/{}/{}"),
    ("GET", "/room_keys/keys/{}/{}"),
    ("DELETE", "/room_keys/keys/{}/{}"),
    ("PUT", "/room_keys/keys/{}"),
    ("GET", "/room_keys/keys/{}"),
    ("DELETE", "/room_keys/keys/{}"),
    ("PUT", "/room_keys/keys"),
    ("GET", "/room_keys/keys"),
    ("DELETE", "/room_keys/keys"),
    ("POST", "/knock/{}"),
    ("DELETE", "/profile/{}/{}"),
    ("POST", "/refresh"),
    ("POST", "/rooms/{}/report"),
    ("POST", "/users/{}/report"),
    ("GET", "/login/sso/redirect"),
    ("GET", "/login/sso/redirect/{}"),
})

_FLASK_PARAMETER = re.compile(r"<[^<>]*>")
# Methods Flask adds to every GET rule (answered for the rule's own methods).
_IMPLIED = {"HEAD", "OPTIONS"}


def normalized(path: str) -> str:
    """A rule's path after ``/v3`` with its parameters written ``{}`` and no trailing slash."""
    return _FLASK_PARAMETER.sub("{}", path).rstrip("/") or "/"


def _r0_methods(rule: Rule) -> set[str]:
    path = normalized(rule.rule[len(V3) - 1:])
    return {method for method in rule.methods or ()
            if method not in _IMPLIED and (method, path) not in POST_R0}


def add_r0_aliases(app: Flask) -> None:
    """Add an r0 rule beside every v3 rule, for the methods that existed in r0."""
    for rule in list(app.url_map.iter_rules()):
        if not rule.rule.startswith(V3):
            continue
        methods = _r0_methods(rule)
        if not methods:
            continue
        app.url_map.add(Rule(R0 + rule.rule[len(V3):], endpoint=rule.endpoint,
                             methods=methods, defaults=rule.defaults,
                             strict_slashes=rule.strict_slashes))
