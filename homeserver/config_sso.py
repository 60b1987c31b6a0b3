"""Configuration of login through OpenID Connect providers: ``oidc_providers`` and ``sso``.

Key names follow Synapse's where they mean the same (``idp_id``, ``issuer``, ``client_id``,
``pkce_method``, ``allow_existing_users``, ``sso.client_whitelist``...); the user mapping is
Synapse's default mapping provider's options under ``user_mapping``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import jinja2.sandbox
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

_OPAQUE_ID = r"^[A-Za-z0-9._~-]{1,255}$"
LOOPBACK_NAMES = ("localhost",)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_provider_url(url) -> bool:
    """https, or http to a loopback address only (an IdP on the same host, or in tests)."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return False
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def check_provider_url(url: str | None, key: str) -> None:
    if url is not None and not is_provider_url(url):
        raise ValidationError("must be an https URL (http only on a loopback address)", key)


def _check_template(text: str | None, key: str) -> None:
    if text is None:
        return
    try:
        jinja2.sandbox.SandboxedEnvironment().from_string(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationError(f"is not a valid template: {exc.message}", key) from None


class UserMappingSchema(_Strict):
    # The claim that identifies the user at the provider for good (never reassigned).
    subject_claim = fields.String(load_default="sub", validate=validate.Length(min=1))
    # Jinja templates over the claims (``user``): the suggested localpart and display name.
    localpart_template = fields.String(load_default="{{ user.preferred_username }}",
                                       allow_none=True)
    display_name_template = fields.String(load_default="{{ user.name }}", allow_none=True)
    # true: a new user confirms or picks their username on a page before the account exists.
    confirm_localpart = fields.Boolean(load_default=False)

    @validates_schema
    def _check(self, data, **kwargs):
        _check_template(data["localpart_template"], "localpart_template")
        _check_template(data["display_name_template"], "display_name_template")


class OidcProviderSchema(_Strict):
    idp_id = fields.String(required=True, validate=validate.Regexp(
        _OPAQUE_ID, error="must be 1-255 characters of A-Z a-z 0-9 . _ ~ -"))
    idp_name = fields.String(load_default=None, allow_none=True)
    idp_icon = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(
        r"^mxc://[^/]+/[A-Za-z0-9_-]+$", error="must be an mxc:// URI"))
    idp_brand = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(min=1, max=255))
    issuer = fields.String(required=True)
    client_id = fields.String(required=True, validate=validate.Length(min=1))
    client_secret = fields.String(load_default=None, allow_none=True)
    client_auth_method = fields.String(load_default="client_secret_basic", validate=validate.OneOf(
        ["client_secret_basic", "client_secret_post", "none"]))
    scopes = fields.List(fields.String(validate=validate.Length(min=1)),
                         load_default=lambda: ["openid"])
    # true: endpoints from <issuer>/.well-known/openid-configuration; false: the keys below.
    discover = fields.Boolean(load_default=True)
    authorization_endpoint = fields.String(load_default=None, allow_none=True)
    token_endpoint = fields.String(load_default=None, allow_none=True)
    userinfo_endpoint = fields.String(load_default=None, allow_none=True)
    jwks_uri = fields.String(load_default=None, allow_none=True)
    # auto: PKCE when the provider's metadata lists S256; always; never.
    pkce_method = fields.String(load_default="auto",
                                validate=validate.OneOf(["auto", "always", "never"]))
    # auto: claims from the ID token; userinfo_endpoint: from the userinfo endpoint as well.
    user_profile_method = fields.String(load_default="auto", validate=validate.OneOf(
        ["auto", "userinfo_endpoint"]))
    # true: a new subject whose mapped localpart is an existing account signs in as it.
    allow_existing_users = fields.Boolean(load_default=False)
    # Bound of each call to the provider (discovery, keys, token exchange, userinfo).
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=60))
    user_mapping = fields.Nested(UserMappingSchema,
                                 load_default=lambda: UserMappingSchema().load({}))

    @validates_schema
    def _check(self, data, **kwargs):
        if "openid" not in data["scopes"]:
            raise ValidationError("must include openid", "scopes")
        check_provider_url(data["issuer"], "issuer")
        for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
            check_provider_url(data[key], key)
        if not data["discover"]:
            for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if data[key] is None:
                    raise ValidationError("is required when discover is false", key)
        if data["client_auth_method"] != "none" and not data["client_secret"]:
            raise ValidationError(f"is required with client_auth_method "
                                  f"{data['client_auth_method']}", "client_secret")


class SsoSchema(_Strict):
    # URL prefixes of clients trusted to receive a login token without the confirmation page
    # ("Continue to <host>?") every other redirectUrl gets.
    client_whitelist = fields.List(fields.String(validate=validate.Length(min=1)),
                                   load_default=list)
    # How long a browser may take at the provider (and on the username page) before the
    # pending login is forgotten.
    session_lifetime_ms = fields.Integer(load_default=15 * 60 * 1000, strict=True,
                                         validate=validate.Range(min=60_000, max=3600_000))

    @validates_schema
    def _check(self, data, **kwargs):
        for prefix in data["client_whitelist"]:
            parts = urlsplit(prefix)
            # A prefix without a path would match https://client.example.evil.example too.
            if parts.scheme in ("http", "https") and (not parts.netloc
                                                      or not parts.path.startswith("/")):
                raise ValidationError(f"{prefix!r} must end the host with / "
                                      f"(e.g. https://app.example.org/)", "client_whitelist")


def check_unique_idp_ids(providers: list[dict]) -> None:
    seen = set()
    for provider in providers:
        if provider["idp_id"] in seen:
            raise ValidationError(f"idp_id {provider['idp_id']!r} is used twice", "oidc_providers")
        seen.add(provider["idp_id"])
