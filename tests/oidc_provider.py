"""A real OpenID Connect provider on loopback for the SSO tests, built from Authlib's server
parts (authorization code grant, PKCE, OpenID Connect ID tokens signed RS256 with a key made
for the test): discovery, JWKS, an authorization endpoint with a login form, a token endpoint
and userinfo. It runs the protocol the homeserver speaks; only its users live in memory.

    provider = OidcProvider(); provider.start()
    provider.add_user("alice", "pw", sub="alice-sub", preferred_username="alice", name="Alice")
    provider.register_client(redirect_uri)              # the homeserver's callback URL
    config = provider.homeserver_config()               # an oidc_providers entry
    ... provider.stop()

Misbehaviours for the attack tests: ``sign_with`` (a key not in the JWKS), ``audience``,
``issuer_claim``, ``expires_in_s``, ``nonce_override``.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey

from local_http import LocalHTTPServer

CLIENT_ID = "homeserver"
CLIENT_SECRET = "a client secret"

LOGIN_FORM = """<!doctype html><title>Test IdP</title>
<form method="post"><input name="username"><input name="password" type="password">
<button>Sign in</button></form>"""


class LocalWSGIServer(LocalHTTPServer, WSGIServer):
    """A WSGI application on loopback (threads per request, quiet on hang-ups)."""


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        """The test's output stays clean: requests are not logged."""


def serve_wsgi(app, server: LocalWSGIServer | None = None):
    """Serve ``app`` (on ``server``, already bound, or a new one); (server, thread)."""
    server = server or LocalWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@dataclass
class User:
    username: str
    password: str
    sub: str
    claims: dict = field(default_factory=dict)
    # Claims served only by the userinfo endpoint, not in the ID token.
    userinfo_only: dict = field(default_factory=dict)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list
    auth_method: str = "client_secret_basic"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint != "token" or method == self.auth_method

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class OidcProvider:
    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.sign_with: RSAKey | None = None
        self.audience: list | None = None
        self.issuer_claim: str | None = None
        self.expires_in_s = 300
        self.nonce_override: str | None = None
        self.users: dict[str, User] = {}
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: dict[str, User] = {}
        self.token_requests = 0
        self.issued_codes: list[str] = []
        self.server = self.thread = None
        self.issuer = ""
        self.app = self._build_app()

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "OidcProvider":
        self.server, self.thread = serve_wsgi(self.app)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()

    def add_user(self, username: str, password: str, *, sub: str, **claims) -> User:
        self.users[username] = User(username, password, sub, claims)
        return self.users[username]

    def register_client(self, redirect_uri: str, *, client_id: str = CLIENT_ID,
                        client_secret: str = CLIENT_SECRET,
                        auth_method: str = "client_secret_basic") -> None:
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri], auth_method)

    def homeserver_config(self, **overrides) -> dict:
        return {"idp_id": "test-idp", "idp_name": "Test IdP", "issuer": self.issuer,
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "scopes": ["openid", "profile"], **overrides}

    def rogue_key(self) -> RSAKey:
        """A key with the published key's ID that is not the published key."""
        return RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})

    # --- the provider ---------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        provider = self
        app = Flask("test_oidc_provider")

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

            def save_authorization_code(self, code, req):
                data = req.payload.data
                provider.issued_codes.append(code)
                provider.codes[code] = AuthorizationCode(
                    code, req.client.client_id, req.payload.redirect_uri, req.scope, req.user,
                    data.get("nonce"), data.get("code_challenge"),
                    data.get("code_challenge_method"))

            def query_authorization_code(self, code, client):
                item = provider.codes.get(code)
                return item if item is not None and item.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class IdToken(OpenIDCode):
            def exists_nonce(self, nonce, req):
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client):
                return provider.sign_with or provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": "test-key-1"}

            def get_client_claims(self, client):
                now = int(time.time())
                return {"iss": provider.issuer_claim or provider.issuer,
                        "aud": provider.audience or [client.client_id],
                        "iat": now, "exp": now + provider.expires_in_s}

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.nonce_override is not None:
                    claims["nonce"] = provider.nonce_override
                return claims

            def generate_user_info(self, user, scope):
                return UserInfo(sub=user.sub, **user.claims)

        def save_token(token, req):
            provider.tokens[token["access_token"]] = req.user

        server = AuthorizationServer(app, query_client=self.clients.get, save_token=save_token)
        server.register_grant(CodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify({
                "issuer": provider.issuer,
                "authorization_endpoint": provider.issuer + "/authorize",
                "token_endpoint": provider.issuer + "/token",
                "userinfo_endpoint": provider.issuer + "/userinfo",
                "jwks_uri": provider.issuer + "/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"],
            })

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                server.get_consent_grant(end_user=None)  # refuses a bad request before login
                return LOGIN_FORM
            user = provider.users.get(request.form.get("username", ""))
            if user is None or user.password != request.form.get("password"):
                return LOGIN_FORM, 401
            grant = server.get_consent_grant(end_user=user)
            return server.create_authorization_response(grant_user=user, grant=grant)

        @app.post("/token")
        def token():
            provider.token_requests += 1
            return server.create_token_response()

        @app.get("/userinfo")
        def userinfo():
            bearer = request.headers.get("Authorization", "")
            user = provider.tokens.get(bearer.removeprefix("Bearer "))
            if user is None:
                return jsonify({"error": "invalid_token"}), 401
            return jsonify({**user.claims, **user.userinfo_only, "sub": user.sub})

        @app.errorhandler(OAuth2Error)
        def refuse(exc):
            return jsonify({"error": exc.error, "error_description": exc.description}), 400

        return app


def main() -> None:
    """``python tests/oidc_provider.py --port P --redirect-uri URL``: the provider in the
    foreground (tests/sytest/launch.py runs one beside the server), with the user
    ``sytest`` (password ``sytest``)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redirect-uri", required=True)
    args = parser.parse_args()
    provider = OidcProvider()
    provider.add_user("sytest", "sytest", sub="sytest", preferred_username="sytest")
    provider.register_client(args.redirect_uri)
    server = LocalWSGIServer(("127.0.0.1", args.port), QuietHandler)
    provider.issuer = f"http://127.0.0.1:{args.port}"
    server.set_app(provider.app)
    server.serve_forever()


if __name__ == "__main__":
    main()
