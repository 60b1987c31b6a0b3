"""POST /search: the request body and its query argument."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import StrictBoolean, StrictInteger, StrictString
from .filters import RoomEventFilterSchema

KEYS = ["content.body", "content.name", "content.topic"]


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class EventContextSchema(_Lenient):
    before_limit = StrictInteger(validate=validate.Range(min=0, error="must not be negative"))
    after_limit = StrictInteger(validate=validate.Range(min=0, error="must not be negative"))
    include_profile = StrictBoolean()


class GroupSchema(_Lenient):
    key = StrictString(required=True, validate=validate.OneOf(["room_id", "sender"]))


class GroupingsSchema(_Lenient):
    group_by = fields.List(fields.Nested(GroupSchema))


class RoomEventsCriteriaSchema(_Lenient):
    search_term = StrictString(required=True)
    keys = fields.List(StrictString(validate=validate.OneOf(KEYS)))
    filter = fields.Nested(RoomEventFilterSchema)
    order_by = StrictString(load_default="rank", validate=validate.OneOf(["rank", "recent"]))
    event_context = fields.Nested(EventContextSchema)
    include_state = StrictBoolean(load_default=False)
    groupings = fields.Nested(GroupingsSchema)


class CategoriesSchema(_Lenient):
    room_events = fields.Nested(RoomEventsCriteriaSchema)


class SearchBodySchema(_Lenient):
    search_categories = fields.Nested(CategoriesSchema, required=True)


class SearchArgs(_Lenient):
    next_batch = fields.String()
