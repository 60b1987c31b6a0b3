"""The configured OpenID Connect providers: their metadata (discovery) and signing keys (JWKS),
fetched through services/outbound_http.py and cached per process.

The issuer is the operator's choice, so its addresses are not held to the public-address policy
of URL previews (a Keycloak on the private network is the usual case); every call is bounded by
the provider's ``timeout_s`` and a size cap, and no redirect is followed.
OpenID Connect Discovery 1.0, section 4; RFC 7517 (JWK sets).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from dataclasses import dataclass

from ...config_sso import is_provider_url
from .. import outbound_http
from .errors import SsoError

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1024 * 1024
METADATA_TTL_S = 3600
JWKS_TTL_S = 3600
# A token naming a key we do not know triggers a refetch (the provider rotated its keys), but
# at most this often, so forged tokens with random key IDs cannot make us hammer the provider.
JWKS_REFETCH_MIN_INTERVAL_S = 60
USER_AGENT = "homeserver (OpenID Connect client)"

ANY_ADDRESS = outbound_http.AddressPolicy(
    allowlist=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")), denylist=())


@dataclass(frozen=True)
class Provider:
    """One entry of ``oidc_providers`` (config_sso.OidcProviderSchema), as attributes."""

    raw: dict

    def __getattr__(self, name):
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def display_name(self) -> str:
        return self.raw["idp_name"] or self.raw["idp_id"]

    def public_description(self) -> dict:
        """The ``identity_providers`` entry of the m.login.sso flow (GET /login)."""
        entry = {"id": self.idp_id, "name": self.display_name}
        if self.idp_icon:
            entry["icon"] = self.idp_icon
        if self.idp_brand:
            entry["brand"] = self.idp_brand
        return entry


def providers_from_config(entries: list[dict]) -> list[Provider]:
    return [Provider(entry) for entry in entries]


def public_descriptions(entries: list[dict]) -> list[dict]:
    """The ``identity_providers`` of GET /login's m.login.sso flow for ``oidc_providers``."""
    return [provider.public_description() for provider in providers_from_config(entries)]


def request(provider: Provider, method: str, url: str, *, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes]:
    try:
        return outbound_http.request(
            method, url, ANY_ADDRESS, timeout_s=provider.timeout_s, max_bytes=MAX_DOCUMENT_BYTES,
            body=body, headers={"User-Agent": USER_AGENT, "Accept": "application/json",
                                **(headers or {})})
    except outbound_http.FetchError as exc:
        log.warning("identity provider %s: %s %s failed: %s", provider.idp_id, method,
                    url.split("?", 1)[0], exc)
        raise SsoError("The identity provider could not be reached", status=502) from None


def get_json(provider: Provider, url: str, what: str) -> dict:
    status, raw = request(provider, "GET", url)
    if status != 200:
        log.warning("identity provider %s: %s answered HTTP %s", provider.idp_id, what, status)
        raise SsoError("The identity provider answered with an error", status=502)
    return parse_json_object(raw, provider, what)


def parse_json_object(raw: bytes, provider: Provider, what: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        log.warning("identity provider %s: %s is not a JSON object", provider.idp_id, what)
        raise SsoError("The identity provider answered with an error", status=502)
    return value


class _Cache:
    """Per-process values with an expiry, one lock (fetches are rare)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict = {}

    def get(self, key):
        with self._lock:
            entry = self._values.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key, value, ttl_s: float) -> None:
        with self._lock:
            self._values[key] = (time.monotonic() + ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_metadata_cache = _Cache()
_jwks_cache = _Cache()
_jwks_fetched_at: dict = {}


def clear_caches() -> None:
    """Forget fetched metadata and keys (tests start each provider afresh)."""
    _metadata_cache.clear()
    _jwks_cache.clear()
    _jwks_fetched_at.clear()


def metadata(provider: Provider) -> dict:
    """The provider's endpoints: discovered, with configured endpoints taking precedence."""
    key = (provider.idp_id, provider.issuer)
    cached = _metadata_cache.get(key)
    if cached is not None:
        return cached
    found: dict = {}
    if provider.discover:
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        found = get_json(provider, url, "discovery document")
        # Discovery section 4.3: the document must be the issuer's own.
        if found.get("issuer") != provider.issuer:
            log.warning("identity provider %s: discovery names issuer %r, configured %r",
                        provider.idp_id, found.get("issuer"), provider.issuer)
            raise SsoError("The identity provider is misconfigured", status=502)
    result = dict(found)
    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        if provider.raw.get(name):
            result[name] = provider.raw[name]
        value = result.get(name)
        if value is not None and not is_provider_url(value):
            log.warning("identity provider %s: %s is not a usable URL", provider.idp_id, name)
            raise SsoError("The identity provider is misconfigured", status=502)
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not result.get(name):
            log.warning("identity provider %s: no %s", provider.idp_id, name)
            raise SsoError("The identity provider is misconfigured", status=502)
    _metadata_cache.put(key, result, METADATA_TTL_S)
    return result


def signing_keys(provider: Provider, meta: dict, *, refresh: bool = False) -> list[dict]:
    """The provider's JWKs (cached; ``refresh`` refetches unless done within the last minute)."""
    key = (provider.idp_id, meta["jwks_uri"])
    cached = _jwks_cache.get(key)
    if cached is not None and not refresh:
        return cached
    last = _jwks_fetched_at.get(key)
    if cached is not None and last is not None and \
            time.monotonic() - last < JWKS_REFETCH_MIN_INTERVAL_S:
        return cached
    document = get_json(provider, meta["jwks_uri"], "key set")
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise SsoError("The identity provider answered with an error", status=502)
    keys = [k for k in keys if isinstance(k, dict)]
    _jwks_fetched_at[key] = time.monotonic()
    _jwks_cache.put(key, keys, JWKS_TTL_S)
    return keys
