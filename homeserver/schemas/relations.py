"""Query arguments of /relations and /threads."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryBoolean, QueryInteger


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class RelationsArgs(_Lenient):
    # "from" is a Python keyword: the key is read with data_key.
    from_token = fields.String(data_key="from")
    to = fields.String()
    limit = QueryInteger(validate=validate.Range(min=0, error="must not be negative"))
    dir = fields.String(load_default="b", validate=validate.OneOf(["b", "f"]))
    recurse = QueryBoolean()


class ThreadsArgs(_Lenient):
    include = fields.String(load_default="all", validate=validate.OneOf(["all", "participated"]))
    from_token = fields.String(data_key="from")
    limit = QueryInteger(validate=validate.Range(min=1, error="must be greater than zero"))
