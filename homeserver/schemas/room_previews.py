"""Query arguments of /rooms/{roomId}/initialSync and /events (room previews)."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryInteger


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class RoomInitialSyncArgs(_Lenient):
    limit = QueryInteger(validate=validate.Range(min=0, error="must not be negative"))


class PeekEventsArgs(_Lenient):
    # "from" is a Python keyword: the key is read with data_key.
    from_token = fields.String(data_key="from")
    # A negative timeout is no wait (as Synapse), not an error.
    timeout = QueryInteger()
    room_id = fields.String()
