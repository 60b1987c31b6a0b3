"""Query arguments of the content repository endpoints."""

from marshmallow import ValidationError, fields, validate

from . import BodySchema, QuerySchema
from .fields import QueryBoolean, QueryInteger, StrictBoolean

# Thumbnail dimensions beyond this are never useful and only cost work.
MAX_THUMBNAIL_DIMENSION = 10_000


class UploadArgs(QuerySchema):
    filename = fields.String(load_default=None)


class DownloadArgs(QuerySchema):
    timeout_ms = QueryInteger(load_default=None, validate=validate.Range(min=0))
    # Deprecated endpoints only: there is no remote media and no redirect here, so both are
    # accepted and change nothing.
    allow_remote = QueryBoolean(load_default=True)
    allow_redirect = QueryBoolean(load_default=False)


class ThumbnailArgs(DownloadArgs):
    width = QueryInteger(required=True, validate=validate.Range(min=1, max=MAX_THUMBNAIL_DIMENSION))
    height = QueryInteger(required=True,
                          validate=validate.Range(min=1, max=MAX_THUMBNAIL_DIMENSION))
    method = fields.String(load_default="scale", validate=validate.OneOf(["crop", "scale"]))
    animated = QueryBoolean(load_default=None)


class PreviewArgs(QuerySchema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    ts = QueryInteger(load_default=None)


# --- administration -----------------------------------------------------------------------------

class AdminUsageArgs(QuerySchema):
    top = QueryInteger(load_default=10, validate=validate.Range(min=0, max=1000))


class AdminListArgs(QuerySchema):
    limit = QueryInteger(load_default=None, validate=validate.Range(min=1))


class AdminQuarantineBody(BodySchema):
    quarantined = StrictBoolean(load_default=True)


class _Days(fields.Number):
    """A non-negative number of days (integer or fraction), JSON numbers only."""

    num_type = float

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValidationError("must be a non-negative number of days")
        return float(value)


class AdminPurgeBody(BodySchema):
    older_than_days = _Days(load_default=None, allow_none=True)
    not_accessed_for_days = _Days(load_default=None, allow_none=True)
