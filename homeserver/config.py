"""Configuration: a YAML file plus HOMESERVER_* environment overrides, validated at startup.

The file is found at ``$HOMESERVER_CONFIG`` (default ``./homeserver.yaml``); without a file the
defaults apply. Any key can be overridden by ``HOMESERVER_<KEY>``, nested keys joined by ``__``
(``HOMESERVER_REGISTRATION__ENABLED=true``); values from the environment are parsed as YAML
scalars so ``true``, ``10`` and ``null`` mean what they look like.

An unknown key or a bad value raises ``ConfigError`` with one line naming the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from .config_identity import IdentityServersSchema
from .config_sso import OidcProviderSchema, SsoSchema, check_unique_idp_ids
from .identifiers import is_valid_server_name, is_valid_user_id
from .services.appservice import registrations

ENV_PREFIX = "HOMESERVER_"
CONFIG_ENV = "HOMESERVER_CONFIG"
DEFAULT_CONFIG_PATH = "homeserver.yaml"


class ConfigError(Exception):
    """Startup refuses to go on; the message is one line naming the key and the problem."""


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class RegistrationSchema(_Strict):
    enabled = fields.Boolean(load_default=False)
    require_token = fields.Boolean(load_default=False)
    # POST /register?kind=guest (spec: Guest Access; api/guest_access.py: what guests may call).
    allow_guests = fields.Boolean(load_default=False)
    # Idle guest accounts are deactivated (devices, rooms) after this; null: never.
    guest_idle_expiry_ms = fields.Integer(load_default=30 * 24 * 3600 * 1000, allow_none=True,
                                          strict=True, validate=validate.Range(min=60_000))
    # Shared-secret registration (/_synapse/admin/v1/register, register_new_matrix_user):
    # whoever knows it creates accounts, admins included. null: refused.
    shared_secret = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(min=16))
    # Every registration must prove an email address (m.login.email.identity); needs `email`.
    require_email = fields.Boolean(load_default=False)


class RateLimitRuleSchema(_Strict):
    per_second = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False))
    burst = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


def _count(default: int) -> fields.Integer:
    """A setting that counts something: an integer of at least 1."""
    return fields.Integer(load_default=default, strict=True, validate=validate.Range(min=1))


def _rule(per_second: float, burst: int) -> dict:
    return {"per_second": per_second, "burst": burst}


class RateLimitsSchema(_Strict):
    enabled = fields.Boolean(load_default=True)
    login_per_ip = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.2, 10))
    login_per_user = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.1, 5))
    login_failures_per_user = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.05, 5))
    register_per_ip = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.1, 5))
    # POST /register?kind=guest per address (apart: guests never use up real registrations).
    guest_register_per_ip = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.05, 5))
    # The email requestToken endpoints: mails asked for per client address, and per
    # destination address (so nobody can flood one mailbox from many addresses).
    email_request_per_ip = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.05, 5))
    email_request_per_address = fields.Nested(RateLimitRuleSchema,
                                              load_default=_rule(1 / 300, 3))
    messages_per_user = fields.Nested(RateLimitRuleSchema, load_default=_rule(10, 50))
    # POST /media/v3/upload and /media/v1/create (a batch of 30 photos passes at once).
    media_upload_per_user = fields.Nested(RateLimitRuleSchema, load_default=_rule(0.2, 30))


# The thumbnail sizes the spec asks servers to produce (Content repository: Thumbnails).
DEFAULT_THUMBNAIL_SIZES = [
    {"width": 32, "height": 32, "method": "crop"},
    {"width": 96, "height": 96, "method": "crop"},
    {"width": 320, "height": 240, "method": "scale"},
    {"width": 640, "height": 480, "method": "scale"},
    {"width": 800, "height": 600, "method": "scale"},
]


class ThumbnailSizeSchema(_Strict):
    width = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4096))
    height = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=4096))
    method = fields.String(required=True, validate=validate.OneOf(["crop", "scale"]))


def _check_networks(values: list, key: str) -> None:
    import ipaddress
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValidationError(f"{value!r} is not an IP network (CIDR)", key) from None


class UrlPreviewSchema(_Strict):
    enabled = fields.Boolean(load_default=False)
    # Ranges fetched even though they are not public (loopback, private...): empty by default.
    ip_range_allowlist = fields.List(fields.String(), load_default=list)
    # Ranges refused on top of every non-public range (which are always refused).
    ip_range_denylist = fields.List(fields.String(), load_default=list)
    max_page_size = fields.Integer(load_default=10 * 1024 * 1024, strict=True,
                                   validate=validate.Range(min=1024))
    timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=120))
    max_redirects = fields.Integer(load_default=5, strict=True, validate=validate.Range(min=0, max=20))
    cache_ttl_ms = fields.Integer(load_default=3600 * 1000, strict=True,
                                  validate=validate.Range(min=0))

    @validates_schema
    def _check(self, data, **kwargs):
        _check_networks(data["ip_range_allowlist"], "ip_range_allowlist")
        _check_networks(data["ip_range_denylist"], "ip_range_denylist")


class MediaSchema(_Strict):
    # Where media files live; default <data_dir>/media.
    store_path = fields.String(load_default=None, allow_none=True)
    max_upload_size = _count(100 * 1024 * 1024)
    # Images with more pixels than this are not decoded (no thumbnail: 413 M_TOO_LARGE).
    max_image_pixels = _count(32_000_000)
    thumbnail_sizes = fields.List(fields.Nested(ThumbnailSizeSchema),
                                  load_default=lambda: [dict(s) for s in DEFAULT_THUMBNAIL_SIZES])
    # POST /_matrix/media/v1/create: how long an mxc URI waits for its upload.
    unused_expiration_ms = fields.Integer(load_default=24 * 3600 * 1000, strict=True,
                                          validate=validate.Range(min=1000))
    max_pending_uploads_per_user = _count(10)
    # Upper bound of a download's timeout_ms while the content is not yet uploaded.
    max_wait_ms = fields.Integer(load_default=60_000, strict=True,
                                 validate=validate.Range(min=0, max=300_000))
    # Thumbnails decoded at once per process (CPU and memory); more wait up to
    # thumbnail_wait_ms, then 429 M_LIMIT_EXCEEDED.
    max_concurrent_thumbnails = _count(2)
    thumbnail_wait_ms = fields.Integer(load_default=10_000, strict=True,
                                       validate=validate.Range(min=0, max=120_000))
    # Total bytes one user may upload (10 GiB: one account of an open server cannot fill the
    # disk); null: no quota.
    max_bytes_per_user = fields.Integer(load_default=10 * 1024 ** 3, allow_none=True,
                                        strict=True, validate=validate.Range(min=0))
    # Freeze of the deprecated unauthenticated downloads: media uploaded at or after this time
    # (ms since the epoch) is served only by the authenticated endpoints. 0 freezes all media,
    # null serves all media on the deprecated endpoints too.
    legacy_unauthenticated_cutoff_ts = fields.Integer(load_default=0, allow_none=True, strict=True,
                                                      validate=validate.Range(min=0))
    url_preview = fields.Nested(UrlPreviewSchema, load_default=lambda: UrlPreviewSchema().load({}))


class PerUserLimitsSchema(_Strict):
    """What one account may keep or hold open (README: Per-user resources)."""
    # Stored filters per user; a new distinct filter beyond this drops the user's oldest.
    max_filters = _count(200)
    # Account data types a user may set: global, in one room, and in all rooms together.
    max_account_data_types = _count(1000)
    max_room_account_data_types = _count(100)
    max_room_account_data_total = _count(50_000)
    max_tags_per_room = _count(100)
    # /sync long-polls waiting at once per device and per user (per process); a new one beyond
    # this answers the oldest waiting one at once with its empty response.
    max_long_polls_per_device = _count(2)
    max_long_polls_per_user = _count(10)


class SlidingSyncSchema(_Strict):
    """Bounds of sliding sync (MSC4186) requests (README: Sliding sync)."""
    # Lists and room subscriptions one request may hold (more answer M_INVALID_PARAM).
    max_lists = _count(20)
    max_ranges_per_list = _count(10)
    max_room_subscriptions = _count(200)
    # required_state entries of one list or subscription (more answer M_INVALID_PARAM).
    max_required_state = _count(100)
    # A larger timeline_limit is served as this one.
    max_timeline_limit = _count(100)
    # Rooms sent in one response; the others in range follow in the next ones.
    max_rooms_per_response = _count(200)
    # Connections (conn_id) per device; a new one beyond replaces the least recently used.
    max_connections_per_device = _count(10)
    # A connection unused for this long is forgotten (its pos answers M_UNKNOWN_POS).
    connection_lifetime_ms = fields.Integer(load_default=7 * 24 * 3600 * 1000, strict=True,
                                            validate=validate.Range(min=60 * 1000))


class PresenceSchema(_Strict):
    # false: presence is not tracked or delivered (PUT is accepted and ignored, GET answers 404).
    enabled = fields.Boolean(load_default=True)
    # An online user with no activity for this long is shown as unavailable.
    idle_after_ms = fields.Integer(load_default=5 * 60 * 1000, strict=True,
                                   validate=validate.Range(min=1000))
    # A user online only through /sync goes offline this long after their last sync.
    offline_after_ms = fields.Integer(load_default=60 * 1000, strict=True,
                                      validate=validate.Range(min=1000))


class PushSchema(_Strict):
    # Accept http:// push gateway URLs (the spec asks for https; a gateway on localhost may not).
    allow_http_gateways = fields.Boolean(load_default=False)
    gateway_timeout_s = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=120))
    # A notification the gateway keeps failing is retried with backoff for this long.
    give_up_after_ms = fields.Integer(load_default=24 * 3600 * 1000, strict=True,
                                      validate=validate.Range(min=1000))
    # The address policy of URL previews: non-public ranges are refused unless allow-listed
    # (a gateway on 127.0.0.1 needs "127.0.0.1/32" here); the deny-list refuses more.
    ip_range_allowlist = fields.List(fields.String(), load_default=list)
    ip_range_denylist = fields.List(fields.String(), load_default=list)
    # Deliveries in flight at once to one gateway (scheme, host, port), per process.
    max_concurrent_per_gateway = fields.Integer(load_default=4, strict=True,
                                                validate=validate.Range(min=1, max=100))
    # Deliveries in flight at once in all, per process (threads of the sender).
    max_concurrent_deliveries = fields.Integer(load_default=16, strict=True,
                                               validate=validate.Range(min=1, max=200))
    # Push rules (PUT /pushrules): a glob (content rule pattern, event_match pattern) may be
    # this long and hold this many wildcards; a user may have this many rules of their own,
    # each with this many conditions.
    max_pattern_length = _count(1000)
    max_pattern_wildcards = fields.Integer(load_default=50, strict=True,
                                           validate=validate.Range(min=0))
    max_rules_per_user = fields.Integer(load_default=1000, strict=True,
                                        validate=validate.Range(min=0))
    max_conditions_per_rule = fields.Integer(load_default=50, strict=True,
                                             validate=validate.Range(min=0))
    # Glob work (pattern characters x text characters) one user's rules may spend on one
    # event; globs past it do not match. Evaluation runs while event writes wait.
    glob_work_budget = fields.Integer(load_default=5_000_000, strict=True,
                                      validate=validate.Range(min=0))

    @validates_schema
    def _check(self, data, **kwargs):
        _check_networks(data["ip_range_allowlist"], "ip_range_allowlist")
        _check_networks(data["ip_range_denylist"], "ip_range_denylist")


class E2eSchema(_Strict):
    # Unclaimed one-time keys one device may hold (all algorithms); an upload beyond is
    # refused (400 M_INVALID_PARAM). Clients keep about 50 on the server.
    max_one_time_keys_per_device = fields.Integer(load_default=5000, strict=True,
                                                  validate=validate.Range(min=100))
    # Send-to-device messages queued for one device; beyond, the oldest message of the sender
    # with the most queued for it is dropped (a flood evicts only the flooder's own).
    max_queued_to_device_per_device = fields.Integer(load_default=10_000, strict=True,
                                                     validate=validate.Range(min=100))


class FiltersSchema(_Strict):
    # A filter's types/not_types glob (an entry with "*") may be this long and hold this
    # many wildcards (POST /filter and inline filters).
    max_glob_length = _count(1000)
    max_glob_wildcards = _count(50)


class SupportContactSchema(_Strict):
    matrix_id = fields.String(load_default=None, allow_none=True)
    email_address = fields.Email(load_default=None, allow_none=True)
    # m.role.admin, m.role.security, or a namespaced role of your own.
    role = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _check(self, data, **kwargs):
        if data["matrix_id"] is None and data["email_address"] is None:
            raise ValidationError("a contact needs matrix_id or email_address", "matrix_id")
        if data["matrix_id"] is not None and not is_valid_user_id(data["matrix_id"]):
            raise ValidationError("is not a Matrix user ID", "matrix_id")


class SupportSchema(_Strict):
    """Served at /.well-known/matrix/support; with neither set that answers 404."""
    contacts = fields.List(fields.Nested(SupportContactSchema), load_default=list)
    support_page = fields.Url(load_default=None, allow_none=True, require_tld=False,
                              schemes={"http", "https"})


class TurnSchema(_Strict):
    """TURN REST API credentials for GET /voip/turnServer (coturn's use-auth-secret)."""
    uris = fields.List(fields.String(validate=validate.Regexp(
        r"^turns?:", error="must be a turn: or turns: URI")), load_default=list)
    shared_secret = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(min=1))
    user_lifetime_ms = fields.Integer(load_default=24 * 3600 * 1000, strict=True,
                                      validate=validate.Range(min=60_000))

    @validates_schema
    def _check(self, data, **kwargs):
        if data["uris"] and not data["shared_secret"]:
            raise ValidationError("is required when uris are given", "shared_secret")


class EmailSchema(_Strict):
    """Outgoing mail (README "Email"): address validation, password reset, notifications."""
    smtp_host = fields.String(required=True, validate=validate.Length(min=1))
    smtp_port = fields.Integer(load_default=None, allow_none=True, strict=True,
                               validate=validate.Range(min=1, max=65535))
    smtp_user = fields.String(load_default=None, allow_none=True)
    smtp_pass = fields.String(load_default=None, allow_none=True)
    # Refuse to send unless the server offers STARTTLS (on a plain connection).
    require_transport_security = fields.Boolean(load_default=False)
    # Implicit TLS from the first byte (SMTPS, usually port 465).
    enable_tls = fields.Boolean(load_default=False)
    # Check the SMTP server's certificate against the system CAs (and its host name).
    tls_verify = fields.Boolean(load_default=True)
    notif_from = fields.String(required=True, validate=validate.Length(min=3))
    app_name = fields.String(load_default="Matrix", validate=validate.Length(min=1, max=100))
    # One SMTP conversation (connect, TLS, each command) may wait this long for the server.
    smtp_timeout_s = fields.Float(load_default=30.0, validate=validate.Range(min=1, max=300))
    # How long the link (and code) of a validation mail works.
    validation_token_lifetime_ms = fields.Integer(load_default=3600 * 1000, strict=True,
                                                  validate=validate.Range(min=60 * 1000))
    # A mail the SMTP server keeps refusing (temporarily) is retried with backoff this long.
    give_up_after_ms = fields.Integer(load_default=24 * 3600 * 1000, strict=True,
                                      validate=validate.Range(min=60 * 1000))
    # Mails about unread notifications, to users with an email pusher (kind "email").
    enable_notifs = fields.Boolean(load_default=False)
    # A notification unread this long is mailed; a pusher gets at most one mail per delay.
    notif_delay_ms = fields.Integer(load_default=10 * 60 * 1000, strict=True,
                                    validate=validate.Range(min=60 * 1000))
    # Accounts registered with an address get an email pusher for it.
    notif_for_new_users = fields.Boolean(load_default=True)
    # A web client the notification mails link to (e.g. https://app.element.io).
    client_base_url = fields.Url(load_default=None, allow_none=True, require_tld=False,
                                 schemes={"http", "https"})

    @validates_schema
    def _check(self, data, **kwargs):
        if data["enable_tls"] and data["require_transport_security"]:
            raise ValidationError("cannot be set with enable_tls (STARTTLS is for plain "
                                  "connections)", "require_transport_security")
        if (data["smtp_user"] is None) != (data["smtp_pass"] is None):
            raise ValidationError("smtp_user and smtp_pass go together", "smtp_user")
        if "@" not in parseaddr(data["notif_from"])[1]:
            raise ValidationError("must be an address, e.g. \"Matrix <noreply@example.org>\"",
                                  "notif_from")


class MetricsSchema(_Strict):
    # GET /metrics (Prometheus text format) on the server's own listener; false: not routed.
    enabled = fields.Boolean(load_default=False)


class RequestsSchema(_Strict):
    """What a client request may hold (see README "Request bodies and identifiers")."""
    # Deepest nesting of arrays/objects in a JSON body or inline filter.
    max_json_depth = fields.Integer(load_default=100, strict=True,
                                    validate=validate.Range(min=16, max=256))
    # How long a transaction ID keeps answering a retried request with its first result.
    txn_id_lifetime_ms = fields.Integer(load_default=24 * 3600 * 1000, strict=True,
                                        validate=validate.Range(min=60 * 1000))


class RetentionSchema(_Strict):
    """The retention job (services/retention.py): what it deletes and how often."""
    enabled = fields.Boolean(load_default=True)
    # Seconds between passes (each process runs the job; the first pass after one interval).
    interval_s = fields.Float(load_default=3600.0, validate=validate.Range(min=0.01,
                                                                           max=7 * 86400))
    # Rows deleted per transaction.
    batch_size = fields.Integer(load_default=1000, strict=True,
                                validate=validate.Range(min=1, max=100_000))
    # Push notifications (GET /notifications, unread counts) older than this are deleted.
    notifications_max_age_ms = fields.Integer(load_default=30 * 24 * 3600 * 1000, strict=True,
                                              validate=validate.Range(min=3600 * 1000))


class ConfigSchema(_Strict):
    server_name = fields.String(load_default="localhost:8008", validate=validate.Length(min=1))
    public_baseurl = fields.Url(load_default=None, allow_none=True, require_tld=False,
                                schemes={"http", "https"})
    data_dir = fields.String(load_default="data")
    database = fields.String(load_default=None, allow_none=True)
    database_pool_size = _count(20)
    log_level = fields.String(load_default="INFO", validate=validate.OneOf(
        ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]))
    # text: "time LEVEL logger: message" lines; json: one JSON object per line.
    log_format = fields.String(load_default="text", validate=validate.OneOf(["text", "json"]))
    metrics = fields.Nested(MetricsSchema, load_default=lambda: MetricsSchema().load({}))
    retention = fields.Nested(RetentionSchema, load_default=lambda: RetentionSchema().load({}))
    registration = fields.Nested(RegistrationSchema, load_default=lambda: RegistrationSchema().load({}))
    # Login through OpenID Connect providers (config_sso.py; README "SSO").
    oidc_providers = fields.List(fields.Nested(OidcProviderSchema), load_default=list)
    sso = fields.Nested(SsoSchema, load_default=lambda: SsoSchema().load({}))
    rate_limits = fields.Nested(RateLimitsSchema, load_default=lambda: RateLimitsSchema().load({}))
    # Largest accepted request body for JSON endpoints (media uploads have their own limit).
    max_request_size = fields.Integer(load_default=1024 * 1024, strict=True,
                                      validate=validate.Range(min=65536))
    # How long a refreshable access token lives before the client must refresh it.
    access_token_lifetime_ms = fields.Integer(load_default=5 * 60 * 1000, strict=True,
                                              validate=validate.Range(min=1000))
    # Behind nginx: take the client address from X-Forwarded-For (set by the proxy).
    trust_x_forwarded_for = fields.Boolean(load_default=False)
    # Shown to users in M_RESOURCE_LIMIT_EXCEEDED errors.
    admin_contact = fields.String(load_default=None, allow_none=True)
    media = fields.Nested(MediaSchema, load_default=lambda: MediaSchema().load({}))
    presence = fields.Nested(PresenceSchema, load_default=lambda: PresenceSchema().load({}))
    per_user_limits = fields.Nested(PerUserLimitsSchema,
                                    load_default=lambda: PerUserLimitsSchema().load({}))
    push = fields.Nested(PushSchema, load_default=lambda: PushSchema().load({}))
    sliding_sync = fields.Nested(SlidingSyncSchema,
                                 load_default=lambda: SlidingSyncSchema().load({}))
    e2e = fields.Nested(E2eSchema, load_default=lambda: E2eSchema().load({}))
    filters = fields.Nested(FiltersSchema, load_default=lambda: FiltersSchema().load({}))
    support = fields.Nested(SupportSchema, load_default=lambda: SupportSchema().load({}))
    turn = fields.Nested(TurnSchema, load_default=lambda: TurnSchema().load({}))
    requests = fields.Nested(RequestsSchema, load_default=lambda: RequestsSchema().load({}))
    # Without it (null) the server sends no mail and the email endpoints refuse.
    email = fields.Nested(EmailSchema, load_default=None, allow_none=True)
    # The identity servers clients name in id_server (config_identity.py; README "Identity servers").
    identity_servers = fields.Nested(IdentityServersSchema,
                                     load_default=lambda: IdentityServersSchema().load({}))
    # Registration files of application services (bridges), read and checked at startup.
    app_service_config_files = fields.List(fields.String(validate=validate.Length(min=1)),
                                           load_default=list)
    # Transactions to one application service: events per transaction, and how long a
    # service that keeps failing waits at most between retries.
    app_service_max_events_per_transaction = fields.Integer(
        load_default=100, strict=True, validate=validate.Range(min=1, max=1000))
    app_service_max_backoff_ms = fields.Integer(load_default=5 * 60 * 1000, strict=True,
                                                validate=validate.Range(min=1000))
    app_service_timeout_s = fields.Float(load_default=60.0,
                                         validate=validate.Range(min=1, max=600))

    @validates_schema
    def _check(self, data, **kwargs):
        db = data.get("database")
        if db and "://" in db and not db.startswith(("postgresql://", "postgres://", "sqlite://")):
            raise ValidationError("must be a SQLite file path or a postgresql:// URL", "database")
        if not is_valid_server_name(data["server_name"]):
            raise ValidationError("is not a valid Matrix server name", "server_name")
        check_unique_idp_ids(data["oidc_providers"])
        if data["registration"]["require_email"] and data.get("email") is None:
            raise ValidationError("needs the email section (a server to send mail)",
                                  "registration.require_email")


@dataclass(frozen=True)
class Config:
    """The validated configuration, as plain attributes (nested sections are dicts)."""

    raw: dict

    def __getattr__(self, name: str) -> Any:
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def database_url(self) -> str:
        db = self.raw["database"]
        if not db:
            return os.path.join(self.raw["data_dir"], "homeserver.db")
        return db

    @property
    def base_url(self) -> str:
        if self.raw["public_baseurl"]:
            return self.raw["public_baseurl"].rstrip("/")
        return f"http://{self.raw['server_name']}"


def _first_error(messages: Any, path: str = "") -> str:
    """Flatten marshmallow's nested messages to 'key.sub: problem' for the first problem."""
    if isinstance(messages, dict):
        key, value = next(iter(messages.items()))
        sub = "" if key == "_schema" else str(key)
        return _first_error(value, f"{path}.{sub}".strip(".") if sub else path)
    if isinstance(messages, list):
        first = messages[0]
        if isinstance(first, (dict, list)):
            return _first_error(first, path)
        text = str(first)
        if text == "Unknown field.":
            text = "unknown key"
        return f"{path}: {text}" if path else text
    return f"{path}: {messages}"


def _set_path(target: dict, keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        nested = target.get(key)
        if not isinstance(nested, dict):
            nested = {}
            target[key] = nested
        target = nested
    target[keys[-1]] = value


def environment_overrides(environ: dict) -> dict:
    overrides: dict = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        keys = [part.lower() for part in name[len(ENV_PREFIX):].split("__") if part]
        if not keys:
            continue
        try:
            value = yaml.safe_load(text) if text != "" else None
        except yaml.YAMLError:
            value = text
        _set_path(overrides, keys, value)
    return overrides


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | None = None, environ: dict | None = None,
                overrides: dict | None = None) -> Config:
    """Read, merge and validate the configuration. Raises ConfigError on any problem."""
    environ = os.environ if environ is None else environ
    path = path or environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH
    data: dict = {}
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc}".replace("\n", " ")) from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the configuration must be a mapping of keys to values")
    elif environ.get(CONFIG_ENV):
        raise ConfigError(f"{path}: configuration file not found ({CONFIG_ENV} names it)")
    data = _merge(data, environment_overrides(environ))
    if overrides:
        data = _merge(data, overrides)
    try:
        loaded = ConfigSchema().load(data)
    except ValidationError as exc:
        raise ConfigError(f"configuration key {_first_error(exc.messages)}") from None
    try:
        loaded["app_services"] = registrations.load_all(loaded["app_service_config_files"],
                                                        loaded["server_name"])
    except registrations.RegistrationError as exc:
        raise ConfigError(str(exc)) from None
    return Config(loaded)


def render_default_config(server_name: str, data_dir: str = "data", database: str | None = None,
                          open_registration: bool | None = None) -> str:
    """The YAML text `homeserver generate-config` writes.

    A local server (loopback name) gets open registration so a newcomer can sign up from a
    client; a public server name gets registration off unless a token is required.
    """
    host = server_name.rsplit(":", 1)[0] if not server_name.startswith("[") else server_name
    local = host in ("localhost", "127.0.0.1", "[::1]") or host.startswith("[::1]")
    if open_registration is None:
        open_registration = local
    lines = [
        "# homeserver configuration. Every key may be overridden by HOMESERVER_<KEY>,",
        "# nested keys joined by __ (e.g. HOMESERVER_REGISTRATION__ENABLED=true).",
        f"server_name: {yaml.safe_dump(server_name).splitlines()[0]}",
        "# public_baseurl: https://matrix.example.org",
        f"data_dir: {yaml.safe_dump(data_dir).splitlines()[0]}",
        "# SQLite file path, or postgresql://user@host/dbname",
        f"database: {yaml.safe_dump(database).splitlines()[0] if database else 'null'}",
        "log_level: INFO",
        "registration:",
        f"  enabled: {'true' if open_registration else 'false'}",
        "  require_token: false",
        "  # POST /register?kind=guest: accounts that may read and join guest-enabled rooms.",
        f"  allow_guests: {'true' if local else 'false'}",
        "rate_limits:",
        "  enabled: true",
        "# Mail (address validation, password reset, notification mails): README \"Email\".",
        "# email:",
        "#   smtp_host: mail.example.org",
        "#   smtp_port: 587",
        "#   require_transport_security: true",
        "#   notif_from: \"Matrix <noreply@example.org>\"",
    ]
    return "\n".join(lines) + "\n"
