"""Filters (spec: Filtering; data/api/client-server/definitions/*filter*.yaml) and the query
arguments of the endpoints that take one."""

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..identifiers import is_valid_room_id, is_valid_user_id
from ..services.reading.filters import type_glob_problem
from .fields import StrictBoolean, StrictInteger, StrictString


class EventTypeGlob(StrictString):
    """An event type, where "*" matches any run of characters; globs are bounded in length
    and wildcards (configuration: filters)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        problem = type_glob_problem(value)
        if problem is not None:
            raise ValidationError(problem)
        return value


class UserIdString(StrictString):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_user_id(value):
            raise ValidationError("must be a user ID")
        return value


class RoomIdString(StrictString):
    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not is_valid_room_id(value):
            raise ValidationError("must be a room ID")
        return value


class _Lenient(Schema):
    # Clients send unstable (MSC) keys in filters; they are kept in the stored filter, ignored here.
    class Meta:
        unknown = EXCLUDE


class EventFilterSchema(_Lenient):
    # The spec asks for > 0, but clients in the wild send 0 to mean "no events"; honour it.
    limit = StrictInteger(validate=validate.Range(min=0, error="must not be negative"))
    types = fields.List(EventTypeGlob())
    not_types = fields.List(EventTypeGlob())
    senders = fields.List(UserIdString())
    not_senders = fields.List(UserIdString())


class RoomEventFilterSchema(EventFilterSchema):
    rooms = fields.List(RoomIdString())
    not_rooms = fields.List(RoomIdString())
    contains_url = StrictBoolean()
    lazy_load_members = StrictBoolean()
    include_redundant_members = StrictBoolean()
    unread_thread_notifications = StrictBoolean()


class RoomFilterSchema(_Lenient):
    rooms = fields.List(RoomIdString())
    not_rooms = fields.List(RoomIdString())
    include_leave = StrictBoolean()
    timeline = fields.Nested(RoomEventFilterSchema)
    state = fields.Nested(RoomEventFilterSchema)
    ephemeral = fields.Nested(RoomEventFilterSchema)
    account_data = fields.Nested(RoomEventFilterSchema)


class FilterSchema(_Lenient):
    event_fields = fields.List(StrictString())
    event_format = StrictString(validate=validate.OneOf(["client", "federation"]))
    presence = fields.Nested(EventFilterSchema)
    account_data = fields.Nested(EventFilterSchema)
    room = fields.Nested(RoomFilterSchema)
