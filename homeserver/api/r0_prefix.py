"""The ``r0`` prefix: every endpoint that existed in the r0 releases of the Client-Server API
is also served at ``/_matrix/client/r0/...`` (``/_matrix/media/r0/...`` for the content
repository), as an alias of its ``v3`` path. The spec renamed r0 to v3 in v1.1 without
changing the endpoints; Synapse serves both, and clients, bots and SyTest written against r0
still call it.

Endpoints the spec added in v1.1 or later (``x-addedInMatrixVersion`` in their OpenAPI
definition) never had an r0 path, so they get none; nor do the ``v1``-only endpoints, which are
not under ``v3`` at all. ``tests/unit/test_r0_prefix_list.py`` checks ``POST_R0`` against the spec.
(No blueprint here: ``register_blueprints`` calls ``add_r0_aliases`` once every blueprint is
registered, so this is the one place the rule lives.)
"""

from __future__ import annotations

import re

from flask import Flask
from werkzeug.routing import Rule

from .http import CLIENT_PREFIX

# The v3 prefixes that had an r0 form: the client API and the content repository.
V3_PREFIXES = (f"{CLIENT_PREFIX}/v3/", "/_matrix/media/v3/")
C, M = (prefix.rstrip("/") for prefix in V3_PREFIXES)

# (method, v3 path with every path parameter written {}) of the v3 operations the spec added in
# v1.1 or later.
POST_R0: frozenset[tuple[str, str]] = frozenset({
    ("POST", C + "/keys/device_signing/upload"),
    ("POST", C + "/keys/signatures/upload"),
    ("POST", C + "/room_keys/version"),
    ("GET", C + "/room_keys/version"),
    ("GET", C + "/room_keys/version/{}"),
    ("PUT", C + "/room_keys/version/{}"),
    ("DELETE", C + "/room_keys/version/{}"),
    ("PUT", C + "/room_keys/keys/{}/{}"),
    ("GET", C + "/room_keys/keys/{}/{}"),
    ("DELETE", C + "/room_keys/keys/{}/{}"),
    ("PUT", C + "/room_keys/keys/{}"),
    ("GET", C + "/room_keys/keys/{}"),
    ("DELETE", C + "/room_keys/keys/{}"),
    ("PUT", C + "/room_keys/keys"),
    ("GET", C + "/room_keys/keys"),
    ("DELETE", C + "/room_keys/keys"),
    ("POST", C + "/knock/{}"),
    ("DELETE", C + "/profile/{}/{}"),
    ("POST", C + "/refresh"),
    ("POST", C + "/rooms/{}/report"),
    ("POST", C + "/users/{}/report"),
    ("GET", C + "/login/sso/redirect"),
    ("GET", C + "/login/sso/redirect/{}"),
    ("PUT", M + "/upload/{}/{}"),
})

_FLASK_PARAMETER = re.compile(r"<[^<>]*>")
# Methods Flask adds to every GET rule (answered for the rule's own methods).
_IMPLIED = {"HEAD", "OPTIONS"}


def normalized(path: str) -> str:
    """A rule's path with its parameters written ``{}`` and no trailing slash."""
    return _FLASK_PARAMETER.sub("{}", path).rstrip("/") or "/"


def _r0_methods(rule: Rule) -> set[str]:
    path = normalized(rule.rule)
    return {method for method in rule.methods or ()
            if method not in _IMPLIED and (method, path) not in POST_R0}


def add_r0_aliases(app: Flask) -> None:
    """Add an r0 rule beside every v3 rule, for the methods that existed in r0."""
    for rule in list(app.url_map.iter_rules()):
        prefix = next((p for p in V3_PREFIXES if rule.rule.startswith(p)), None)
        if prefix is None:
            continue
        methods = _r0_methods(rule)
        if not methods:
            continue
        r0_path = prefix[:-len("v3/")] + "r0/" + rule.rule[len(prefix):]
        app.url_map.add(Rule(r0_path, endpoint=rule.endpoint, methods=methods,
                             defaults=rule.defaults, strict_slashes=rule.strict_slashes))
