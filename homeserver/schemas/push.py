"""Request bodies and query arguments of the push rule, pusher and notification endpoints."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import QueryInteger, StrictBoolean, StrictString


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class RulePositionArgs(_Lenient):
    before = fields.String()
    after = fields.String()


class EnabledBody(_Lenient):
    enabled = StrictBoolean(required=True)


class ActionsBody(_Lenient):
    actions = fields.Raw(required=True)


class NotificationsArgs(_Lenient):
    # from: an opaque token of ours; checked by the service.
    from_ = fields.String(data_key="from")
    limit = QueryInteger(load_default=None, validate=validate.Range(min=0))
    only = fields.String()


class PusherBody(_Lenient):
    """POST /pushers/set. kind null deletes; otherwise the display fields and data are required
    (checked by the service so the errcode is M_MISSING_PARAM as the spec's example shows)."""

    pushkey = StrictString(required=True)
    kind = StrictString(required=True, allow_none=True)
    app_id = StrictString(required=True)
    app_display_name = StrictString()
    device_display_name = StrictString()
    profile_tag = StrictString(allow_none=True)
    lang = StrictString()
    data = fields.Raw()
    append = StrictBoolean(load_default=False)
