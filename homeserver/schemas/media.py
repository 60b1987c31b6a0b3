"""Query arguments of the content repository endpoints."""

from marshmallow import fields, validate

from . import QuerySchema
from .fields import QueryBoolean, QueryInteger

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
