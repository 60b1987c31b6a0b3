"""Configuration of the identity servers clients name (``identity_servers``): spec Client-
Server API "Adding Account Administrative Contact Information" and "Third-party invites".

The ``id_server`` of a request is the client's choice, so by default an identity server is
reached like a URL preview: over https, at public addresses only (services/outbound_http.py).
``trusted`` names the servers the operator vouches for (say, one on the same network).
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .identifiers import is_valid_server_name


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class IdentityServersSchema(_Strict):
    # Identity servers reached at any address, loopback and private ranges included: a host
    # (every port) or host:port, as clients name them in id_server.
    trusted = fields.List(fields.String(), load_default=list)
    # false: only the trusted ones; any other id_server is refused with M_SERVER_NOT_TRUSTED
    # (the spec lets a homeserver "reject some identity servers for its users").
    allow_untrusted = fields.Boolean(load_default=True)
    # For the trusted ones only, in test setups: plain http instead of https, and https
    # without certificate checks. Never in production.
    trusted_scheme = fields.String(load_default="https", validate=validate.OneOf(["https", "http"]))
    trusted_verify_tls = fields.Boolean(load_default=True)
    # One exchange with an identity server ends within this; answers are read up to this size.
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=60))
    max_response_size = fields.Integer(load_default=64 * 1024, strict=True,
                                       validate=validate.Range(min=1024, max=1024 * 1024))

    @validates_schema
    def _check(self, data, **kwargs):
        for name in data["trusted"]:
            if not is_valid_server_name(name):
                raise ValidationError(f"{name!r} is not a host or host:port", "trusted")
