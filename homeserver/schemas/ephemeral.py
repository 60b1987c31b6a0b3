"""Request bodies of the typing, receipt, read marker and presence endpoints."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .fields import StrictBoolean, StrictInteger, StrictString


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class TypingBody(_Lenient):
    typing = StrictBoolean(required=True)
    timeout = StrictInteger(validate=validate.Range(min=0))


class ReceiptBody(_Lenient):
    # Checked by the service (a non-string or empty thread_id is M_INVALID_PARAM per the spec).
    thread_id = fields.Raw()


class PresenceBody(_Lenient):
    presence = StrictString(required=True, validate=validate.OneOf(
        ["online", "offline", "unavailable"]))
    status_msg = StrictString(allow_none=True)
