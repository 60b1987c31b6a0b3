"""Bodies of the report endpoints."""

from marshmallow import EXCLUDE, Schema

from .fields import StrictString


class _Lenient(Schema):
    # The removed `score` of event reports, and any unstable key, are ignored.
    class Meta:
        unknown = EXCLUDE


class EventReportBody(_Lenient):
    reason = StrictString(allow_none=True)


class ReportBody(_Lenient):
    reason = StrictString(required=True)
