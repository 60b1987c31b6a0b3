"""POST /v3/user/{userId}/openid/request_token (spec module "OpenID")."""

import hashlib

from homeserver.models.openid import OpenIdToken
from homeserver.services.accounts import openid
from rooms_support import V3, error, ok, q


def request_token(user, user_id=None, body=None):
    return user.post(f"{V3}/user/{q(user_id or user.user_id)}/openid/request_token",
                     json={} if body is None else body)


def test_token_for_own_user(app, register_user, clock):
    alice = register_user("alice")
    body = ok(request_token(alice))
    assert set(body) == {"access_token", "token_type", "matrix_server_name", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["matrix_server_name"] == "localhost:8008"
    assert body["expires_in"] == 3600
    other = ok(request_token(alice))["access_token"]
    assert other != body["access_token"]
    with app.app_context():
        # Stored hashed; the service resolves it to the user until it expires.
        digests = {row.token_digest for row in OpenIdToken.select()}
        assert hashlib.sha256(body["access_token"].encode()).hexdigest() in digests
        assert body["access_token"] not in digests
        assert openid.user_for_token(body["access_token"]) == alice.user_id
        assert openid.user_for_token("oit_unknown") is None
        clock.advance(3600 * 1000 + 1)
        assert openid.user_for_token(body["access_token"]) is None


def test_not_an_access_token(register_user, client):
    alice = register_user("alice")
    token = ok(request_token(alice))["access_token"]
    response = client.get(f"{V3}/account/whoami", headers={"Authorization": f"Bearer {token}"})
    error(response, 401, "M_UNKNOWN_TOKEN")


def test_only_for_yourself(register_user):
    alice = register_user("alice")
    bob = register_user("bob")
    error(request_token(alice, bob.user_id), 403, "M_FORBIDDEN")
    error(request_token(alice, "@nobody:localhost:8008"), 403, "M_FORBIDDEN")


def test_request_shape(register_user, client):
    alice = register_user("alice")
    error(alice.post(f"{V3}/user/{q(alice.user_id)}/openid/request_token", data="x"),
          400, "M_NOT_JSON")
    error(request_token(alice, body=[]), 400, "M_BAD_JSON")
    response = client.post(f"{V3}/user/{q(alice.user_id)}/openid/request_token", json={})
    error(response, 401, "M_MISSING_TOKEN")


# --- GET /_matrix/federation/v1/openid/userinfo (Server-Server API: OpenID) ---

USERINFO = "/_matrix/federation/v1/openid/userinfo"


def test_userinfo_names_the_tokens_user(register_user, client, clock):
    alice = register_user("alice")
    token = ok(request_token(alice))["access_token"]
    response = client.get(USERINFO, query_string={"access_token": token})
    assert ok(response) == {"sub": alice.user_id}
    clock.advance(3600 * 1000 + 1)
    error(client.get(USERINFO, query_string={"access_token": token}), 401, "M_UNKNOWN_TOKEN")


def test_userinfo_refuses_other_tokens(register_user, client):
    alice = register_user("alice")
    # An access token is not an OpenID token.
    error(client.get(USERINFO, query_string={"access_token": alice.access_token}), 401,
          "M_UNKNOWN_TOKEN")
    error(client.get(USERINFO, query_string={"access_token": "an/invalid/token"}), 401,
          "M_UNKNOWN_TOKEN")
    error(client.get(USERINFO), 401, "M_MISSING_TOKEN")
