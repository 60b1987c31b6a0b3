"""Query arguments of the room previews and the v1 sync APIs: /rooms/{roomId}/initialSync,
/events (with or without room_id) and /initialSync."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryBoolean, QueryInteger

_NOT_NEGATIVE = validate.Range(min=0, error="must not be negative")


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class RoomInitialSyncArgs(_Lenient):
    limit = QueryInteger(validate=_NOT_NEGATIVE)


class EventsArgs(_Lenient):
    # "from" is a Python keyword: the key is read with data_key.
    from_token = fields.String(data_key="from")
    # A negative timeout is no wait (as Synapse), not an error.
    timeout = QueryInteger()
    room_id = fields.String()
    limit = QueryInteger(validate=_NOT_NEGATIVE)


class InitialSyncArgs(_Lenient):
    limit = QueryInteger(validate=_NOT_NEGATIVE)
    archived = QueryBoolean(load_default=False)
