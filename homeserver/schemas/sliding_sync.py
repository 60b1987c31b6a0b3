"""The request of sliding sync (MSC4186), as the unstable endpoint's clients send it
(matrix-rust-sdk, matrix-js-sdk, Synapse's tests). Unknown fields are ignored: clients still
send fields of older drafts (``sort``, ``bump_event_types``, ``txn_id``...)."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import JsonValue, QueryInteger, StrictBoolean, StrictInteger, StrictString


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class SlidingSyncArgs(_Lenient):
    pos = fields.String()
    timeout = QueryInteger(load_default=0, validate=validate.Range(
        min=0, error="must not be negative"))
    set_presence = fields.String(validate=validate.OneOf(["offline", "online", "unavailable"]))


class ListFiltersSchema(_Lenient):
    is_dm = StrictBoolean(allow_none=True)
    spaces = fields.List(StrictString(), allow_none=True)
    is_encrypted = StrictBoolean(allow_none=True)
    is_invite = StrictBoolean(allow_none=True)
    # The MSC's latest name of is_invite.
    is_invited = StrictBoolean(allow_none=True)
    room_types = fields.List(StrictString(allow_none=True), allow_none=True)
    not_room_types = fields.List(StrictString(allow_none=True), allow_none=True)
    tags = fields.List(StrictString(), allow_none=True)
    not_tags = fields.List(StrictString(), allow_none=True)


_Range = fields.List(StrictInteger(validate=validate.Range(min=0)),
                     validate=validate.Length(equal=2))


class RoomConfigSchema(_Lenient):
    timeline_limit = StrictInteger(load_default=0, validate=validate.Range(min=0))
    # [[type, state_key], ...] (unstable endpoint) or {"include": [...], "exclude": [...],
    # "lazy_members": bool} (the MSC's latest text): read by services/sliding_sync/required_state.
    required_state = JsonValue(load_default=None)


class ListSchema(RoomConfigSchema):
    ranges = fields.List(_Range, load_default=None, allow_none=True)
    # The MSC's latest name: one range.
    range = fields.List(StrictInteger(validate=validate.Range(min=0)), load_default=None,
                        allow_none=True, validate=validate.Length(equal=2))
    filters = fields.Nested(ListFiltersSchema, load_default=None, allow_none=True)


class ExtensionSchema(_Lenient):
    enabled = StrictBoolean(load_default=None, allow_none=True)
    lists = fields.List(StrictString(), load_default=None, allow_none=True)
    rooms = fields.List(StrictString(), load_default=None, allow_none=True)


class ToDeviceExtensionSchema(ExtensionSchema):
    since = StrictString(load_default=None, allow_none=True)
    limit = StrictInteger(load_default=100, validate=validate.Range(min=1))


class ExtensionsSchema(_Lenient):
    to_device = fields.Nested(ToDeviceExtensionSchema, load_default=None, allow_none=True)
    e2ee = fields.Nested(ExtensionSchema, load_default=None, allow_none=True)
    account_data = fields.Nested(ExtensionSchema, load_default=None, allow_none=True)
    receipts = fields.Nested(ExtensionSchema, load_default=None, allow_none=True)
    typing = fields.Nested(ExtensionSchema, load_default=None, allow_none=True)


class SlidingSyncBody(_Lenient):
    conn_id = StrictString(load_default=None, allow_none=True,
                           validate=validate.Length(max=255))
    lists = fields.Dict(keys=StrictString(validate=validate.Length(max=255)),
                        values=fields.Nested(ListSchema), load_default=dict)
    room_subscriptions = fields.Dict(keys=StrictString(validate=validate.Length(max=255)),
                                     values=fields.Nested(RoomConfigSchema),
                                     load_default=dict)
    extensions = fields.Nested(ExtensionsSchema, load_default=None, allow_none=True)
    # The MSC's latest text moves these query parameters into the body.
    pos = StrictString(load_default=None, allow_none=True)
    timeout = StrictInteger(load_default=None, allow_none=True, validate=validate.Range(min=0))
