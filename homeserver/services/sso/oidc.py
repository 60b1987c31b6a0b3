"""The OpenID Connect authorization code flow, client side (OpenID Connect Core 1.0, 3.1):
the authorization request (with PKCE, RFC 7636), the code exchange, ID token validation
(3.1.3.7) and the userinfo request (5.3).

ID tokens are checked with PyJWT: a signature by one of the provider's published keys with an
asymmetric algorithm the provider announces (never ``none``, never a shared-secret HMAC), then
``iss``, ``aud`` (and ``azp``), ``exp``, ``iat`` and the ``nonce`` of this browser's attempt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from .errors import SsoError
from .providers import Provider, parse_json_object, request, signing_keys

if TYPE_CHECKING:
    import jwt

log = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                         "ES256", "ES384", "ES512", "EdDSA")
# Clocks of the provider and this server may differ a little.
CLOCK_LEEWAY_S = 60
# A key set without key IDs is tried key by key: this many at most.
MAX_KEYS_TRIED = 10


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def code_challenge(verifier: str) -> str:
    """RFC 7636 4.2, method S256."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def uses_pkce(provider: Provider, meta: dict) -> bool:
    if provider.pkce_method == "always":
        return True
    if provider.pkce_method == "never":
        return False
    methods = meta.get("code_challenge_methods_supported")
    return isinstance(methods, list) and "S256" in methods


def authorization_url(provider: Provider, meta: dict, *, callback_url: str, state: str,
                      nonce: str, code_verifier: str) -> str:
    params = {"response_type": "code", "client_id": provider.client_id,
              "redirect_uri": callback_url, "scope": " ".join(provider.scopes),
              "state": state, "nonce": nonce}
    if uses_pkce(provider, meta):
        params["code_challenge"] = code_challenge(code_verifier)
        params["code_challenge_method"] = "S256"
    parts = urlsplit(meta["authorization_endpoint"])
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def exchange_code(provider: Provider, meta: dict, *, code: str, callback_url: str,
                  code_verifier: str) -> dict:
    """The token endpoint's answer to the authorization code (RFC 6749 4.1.3)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": callback_url}
    if uses_pkce(provider, meta):
        form["code_verifier"] = code_verifier
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if provider.client_auth_method == "client_secret_basic":
        # RFC 6749 2.3.1: both parts form-encoded before the Basic encoding.
        pair = f"{quote(provider.client_id, safe='')}:{quote(provider.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    else:
        form["client_id"] = provider.client_id
        if provider.client_auth_method == "client_secret_post":
            form["client_secret"] = provider.client_secret
    status, raw = request(provider, "POST", meta["token_endpoint"],
                          body=urlencode(form).encode("ascii"), headers=headers)
    if status != 200:
        try:
            reason = json.loads(raw).get("error")
        except (ValueError, AttributeError):
            reason = None
        # Only the error code: the body may echo what we sent.
        log.warning("identity provider %s: token endpoint answered HTTP %s (%s)",
                    provider.idp_id, status, reason if isinstance(reason, str) else "no error code")
        raise SsoError("The identity provider refused to complete the login", status=502)
    answer = parse_json_object(raw, provider, "token response")
    if not isinstance(answer.get("id_token"), str):
        log.warning("identity provider %s: token response has no id_token", provider.idp_id)
        raise SsoError("The identity provider did not identify the user", status=502)
    return answer


def _allowed_algorithms(meta: dict) -> list[str]:
    announced = meta.get("id_token_signing_alg_values_supported")
    if not isinstance(announced, list):
        announced = ["RS256"]  # Discovery 1.0, section 3: RS256 must be supported
    return [alg for alg in ASYMMETRIC_ALGORITHMS if alg in announced]


def configure(providers: list) -> None:
    """With identity providers configured, PyJWT (with cryptography, ~10 MiB) is imported now:
    gunicorn's master builds the app before it forks, so the workers share those pages.
    Without, no process imports it unless it verifies an ID token (docs/performance.md,
    "Process model and memory")."""
    if providers:
        import jwt  # noqa: F401


def _candidate_keys(keys: list[dict], kid, alg: str) -> list[jwt.PyJWK]:
    import jwt
    found = []
    for entry in keys:
        if kid is not None and entry.get("kid") != kid:
            continue
        if entry.get("use") not in (None, "sig") or entry.get("alg") not in (None, alg):
            continue
        try:
            found.append(jwt.PyJWK(entry, algorithm=alg))
        except (jwt.exceptions.PyJWKError, jwt.exceptions.InvalidKeyError, ValueError,
                TypeError, KeyError):
            continue
    return found[:MAX_KEYS_TRIED]


def verify_id_token(provider: Provider, meta: dict, id_token: str, *, nonce: str) -> dict:
    """The claims of a valid ID token for this client and attempt; SsoError otherwise."""
    import jwt  # imported at start only where providers are configured (see configure)
    refused = SsoError("The identity provider's answer could not be verified", status=403)
    try:
        header = jwt.get_unverified_header(id_token)
    except jwt.exceptions.DecodeError:
        log.warning("identity provider %s: the ID token is not a JWS", provider.idp_id)
        raise refused from None
    alg, kid = header.get("alg"), header.get("kid")
    allowed = _allowed_algorithms(meta)
    if alg not in allowed:
        log.warning("identity provider %s: ID token algorithm %r refused", provider.idp_id, alg)
        raise refused
    keys = _candidate_keys(signing_keys(provider, meta), kid, alg)
    if not keys:
        # The provider may have rotated its keys since we fetched them.
        keys = _candidate_keys(signing_keys(provider, meta, refresh=True), kid, alg)
    last_error = "no key of the provider's key set matches"
    for key in keys:
        try:
            claims = jwt.decode(
                id_token, key, algorithms=[alg], audience=provider.client_id,
                issuer=provider.issuer, leeway=CLOCK_LEEWAY_S,
                options={"require": ["iss", "sub", "aud", "exp", "iat"]})
        except jwt.exceptions.InvalidSignatureError:
            last_error = "bad signature"
            continue
        except jwt.exceptions.InvalidTokenError as exc:
            last_error = type(exc).__name__
            break
        _check_audience_and_nonce(provider, claims, nonce)
        return claims
    log.warning("identity provider %s: ID token refused: %s", provider.idp_id, last_error)
    raise refused


def _check_audience_and_nonce(provider: Provider, claims: dict, nonce: str) -> None:
    refused = SsoError("The identity provider's answer could not be verified", status=403)
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != provider.client_id:
        log.warning("identity provider %s: ID token for several audiences without our azp",
                    provider.idp_id)
        raise refused
    if not isinstance(claims.get("nonce"), str) or \
            not secrets.compare_digest(claims["nonce"].encode(), nonce.encode()):
        log.warning("identity provider %s: ID token nonce does not match the attempt",
                    provider.idp_id)
        raise refused


def userinfo(provider: Provider, meta: dict, access_token: str, subject: str) -> dict:
    """Claims from the userinfo endpoint (Core 5.3); its ``sub`` must be the ID token's."""
    url = meta.get("userinfo_endpoint")
    if not url:
        return {}
    status, raw = request(provider, "GET", url,
                          headers={"Authorization": f"Bearer {access_token}"})
    if status != 200:
        log.warning("identity provider %s: userinfo answered HTTP %s", provider.idp_id, status)
        raise SsoError("The identity provider answered with an error", status=502)
    claims = parse_json_object(raw, provider, "userinfo")
    if claims.get("sub") != subject:
        log.warning("identity provider %s: userinfo is about another subject", provider.idp_id)
        raise SsoError("The identity provider's answer could not be verified", status=403)
    return claims
