"""Request bodies and query arguments of server administration, mutual rooms, room summaries
and third-party lookups."""

from marshmallow import fields

from . import BodySchema, QuerySchema
from .fields import StrictBoolean


class LockBody(BodySchema):
    locked = StrictBoolean(required=True)


class SuspendBody(BodySchema):
    suspended = StrictBoolean(required=True)


class MutualRoomsArgs(QuerySchema):
    user_id = fields.String(required=True)
    # data_key: "from" is a Python keyword.
    from_token = fields.String(load_default=None, data_key="from")


class AliasArgs(QuerySchema):
    alias = fields.String(required=True)


class UserIdArgs(QuerySchema):
    userid = fields.String(required=True)
