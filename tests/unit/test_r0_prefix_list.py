"""The r0 prefix (homeserver/api/r0_prefix.py): its list of the v3 operations r0 never had is
the spec's (``x-addedInMatrixVersion``), and the aliases follow it."""

import os

import pytest
from flask import Flask

from helpers.spec_operations import OPENAPI_PATH, load_openapi, matching_rule, spec_available
from homeserver.api import register_blueprints
from homeserver.api.r0_prefix import POST_R0, V3_PREFIXES, normalized
from homeserver.config import load_config

V3 = "/_matrix/client/v3"


@pytest.fixture(scope="module")
def routes() -> Flask:
    bare = Flask("routes_only")
    bare.config["HOMESERVER"] = load_config(path=os.devnull, environ={})
    register_blueprints(bare)
    return bare


@pytest.mark.skipif(not spec_available(), reason=f"no spec at {OPENAPI_PATH}")
def test_the_post_r0_list_is_the_specs():
    added_later = set()
    for path, item in load_openapi()["paths"].items():
        if not path.startswith(V3_PREFIXES):
            continue
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("x-addedInMatrixVersion"):
                added_later.add((method.upper(),
                                 normalized(path.replace("{", "<").replace("}", ">"))))
    assert POST_R0 == added_later


@pytest.mark.parametrize("method, path", [
    ("GET", "/sync"), ("GET", "/events"), ("GET", "/initialSync"), ("POST", "/createRoom"),
    ("PUT", "/rooms/!r:x/send/m.room.message/t1"), ("GET", "/pushrules/"),
    ("GET", "/profile/@a:x/displayname"), ("PUT", "/profile/@a:x/displayname")])
def test_r0_serves_what_r0_had(routes, method, path):
    v3 = matching_rule(routes, method, V3 + path)
    assert v3 is not None
    assert matching_rule(routes, method, "/_matrix/client/r0" + path).endpoint == v3.endpoint


def test_media_r0(routes):
    for method, path in [("POST", "/upload"), ("GET", "/download/x/y")]:
        v3 = matching_rule(routes, method, "/_matrix/media/v3" + path)
        assert matching_rule(routes, method, "/_matrix/media/r0" + path).endpoint == v3.endpoint


@pytest.mark.parametrize("method, path", [
    ("POST", "/_matrix/client/r0/knock/!r:x"), ("POST", "/_matrix/client/r0/refresh"),
    ("GET", "/_matrix/client/r0/room_keys/version"),
    ("DELETE", "/_matrix/client/r0/profile/@a:x/displayname"),
    ("GET", "/_matrix/client/r0/rooms/!r:x/hierarchy"),
    ("GET", "/_matrix/client/r1/sync"), ("PUT", "/_matrix/media/r0/upload/x/y"),
    ("POST", "/_matrix/media/r0/create")])
def test_r0_has_nothing_added_later_nor_v1_endpoints(routes, method, path):
    assert matching_rule(routes, method, path) is None
