"""Query arguments of /messages, /context and /timestamp_to_event."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryInteger


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class MessagesArgs(_Lenient):
    dir = fields.String(required=True, validate=validate.OneOf(["b", "f"]))
    # "from" is a Python keyword: the key is read with data_key.
    from_token = fields.String(data_key="from")
    to = fields.String()
    limit = QueryInteger(validate=validate.Range(min=0, error="must not be negative"))
    filter = fields.String()


class ContextArgs(_Lenient):
    limit = QueryInteger(validate=validate.Range(min=0, error="must not be negative"))
    filter = fields.String()


class TimestampArgs(_Lenient):
    ts = QueryInteger(required=True, validate=validate.Range(min=0, error="must not be negative"))
    dir = fields.String(required=True, validate=validate.OneOf(["b", "f"]))
