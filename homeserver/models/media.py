"""The content repository: media items (mxc URIs), the stored bytes they point at, thumbnails
and URL preview cache entries."""

import peewee

from ..db import BaseModel


class MediaContent(BaseModel):
    """One stored file, named by the SHA-256 of its bytes: the same bytes are stored once.

    The row also serializes the file's lifetime: an upload upserts it before relying on the file
    and a deletion locks it before removing the file, so neither can lose the other's bytes.
    """

    sha256 = peewee.CharField(primary_key=True, max_length=64)
    size = peewee.BigIntegerField()
    created_ts = peewee.BigIntegerField()
    # Quarantined bytes are served to nobody, whatever media item points at them.
    quarantined = peewee.BooleanField(default=False)


class Media(BaseModel):
    """A local mxc URI. ``sha256`` is null until the content is uploaded (asynchronous upload)."""

    media_id = peewee.CharField(primary_key=True, max_length=255)
    # null for media the server stored itself (URL preview images).
    user_id = peewee.CharField(null=True, max_length=255, index=True)
    content_type = peewee.CharField(max_length=255, default="application/octet-stream")
    upload_name = peewee.TextField(null=True)
    sha256 = peewee.CharField(null=True, max_length=64, index=True)
    size = peewee.BigIntegerField(null=True)
    created_ts = peewee.BigIntegerField()
    uploaded_ts = peewee.BigIntegerField(null=True, index=True)
    # Created with POST /create and not yet uploaded: the URI is dropped after this time.
    unused_expires_ts = peewee.BigIntegerField(null=True)
    last_access_ts = peewee.BigIntegerField(null=True, index=True)
    quarantined = peewee.BooleanField(default=False)
    # The admin who quarantined it, when one did through the admin API (m0261).
    quarantined_by = peewee.CharField(null=True, max_length=255)


class MediaThumbnail(BaseModel):
    """A thumbnail of some content at one of the configured sizes (or full size, see services)."""

    sha256 = peewee.CharField(max_length=64)
    # The variant: "<width>x<height>-<method>" or "full", plus "-animated".
    variant = peewee.CharField(max_length=64)
    content_type = peewee.CharField(max_length=64)
    width = peewee.IntegerField()
    height = peewee.IntegerField()
    size = peewee.BigIntegerField()
    created_ts = peewee.BigIntegerField()

    class Meta:
        primary_key = peewee.CompositeKey("sha256", "variant")


class UrlPreview(BaseModel):
    """A cached URL preview (the Open Graph object served to clients)."""

    url_hash = peewee.CharField(primary_key=True, max_length=64)
    url = peewee.TextField()
    og = peewee.TextField()  # JSON
    fetched_ts = peewee.BigIntegerField()
    expires_ts = peewee.BigIntegerField(index=True)
