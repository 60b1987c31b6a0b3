"""GET /voip/turnServer: TURN REST API credentials from the `turn` configuration section."""

import base64
import hashlib
import hmac
import os
import time

import pytest

from homeserver.config import ConfigError, load_config

URL = "/_matrix/client/v3/voip/turnServer"
TURN = {"uris": ["turn:turn.example.org:3478?transport=udp",
                 "turns:turn.example.org:5349?transport=tcp"],
        "shared_secret": "s3cret", "user_lifetime_ms": 3600_000}


def test_credentials_follow_the_turn_rest_api(make_app, register_user):
    app = make_app(turn=TURN)
    alice = register_user("alice")
    alice.client = app.test_client()
    before = int(time.time())
    response = alice.get(URL)
    assert response.status_code == 200
    body = response.get_json()
    assert body["uris"] == TURN["uris"]
    assert body["ttl"] == 3600
    expiry, user_id = body["username"].split(":", 1)
    assert user_id == alice.user_id
    assert before + 3600 <= int(expiry) <= int(time.time()) + 3600
    expected = base64.b64encode(hmac.new(b"s3cret", body["username"].encode(),
                                         hashlib.sha1).digest()).decode()
    assert body["password"] == expected


def test_needs_a_token(make_app):
    response = make_app(turn=TURN).test_client().get(URL)
    assert response.status_code == 401
    assert response.get_json()["errcode"] == "M_MISSING_TOKEN"


def test_without_turn_server_the_endpoint_is_unrecognized(register_user):
    alice = register_user("alice")
    response = alice.get(URL)
    assert response.status_code == 404
    assert response.get_json()["errcode"] == "M_UNRECOGNIZED"


@pytest.mark.parametrize("turn,key", [
    ({"uris": ["turn:x"]}, "turn.shared_secret"),
    ({"uris": ["stun:x"], "shared_secret": "s"}, "turn.uris"),
    ({"uris": ["turn:x"], "shared_secret": "s", "user_lifetime_ms": 10}, "turn.user_lifetime_ms"),
])
def test_bad_configuration_is_refused(turn, key):
    with pytest.raises(ConfigError) as info:
        load_config(path=os.devnull, environ={}, overrides={"turn": turn})
    assert key in str(info.value)
