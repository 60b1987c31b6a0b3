"""Query arguments of GET /hierarchy."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryBoolean, QueryInteger


class HierarchyArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    suggested_only = QueryBoolean(load_default=False)
    limit = QueryInteger(validate=validate.Range(min=1, error="must be greater than zero"))
    max_depth = QueryInteger(validate=validate.Range(min=0, error="must not be negative"))
    # "from" is a Python keyword: the key is read with data_key.
    from_token = fields.String(data_key="from")
