"""Query arguments of GET /sync."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryBoolean, QueryInteger


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class SyncArgs(_Lenient):
    filter = fields.String()
    since = fields.String()
    full_state = QueryBoolean(load_default=False)
    set_presence = fields.String(validate=validate.OneOf(["offline", "online", "unavailable"]))
    timeout = QueryInteger(load_default=0, validate=validate.Range(
        min=0, error="must not be negative"))
    use_state_after = QueryBoolean(load_default=False)
