"""Media items: uploads (direct and asynchronous), finding content to serve, and its lifetime.

An upload is received into a temporary file first (``storage.MediaStore.receive``); only then
are the database rows written and the file moved into place, in one write transaction. The
content row (``MediaContent``) is upserted before the file is relied upon and locked by any
deletion, so a concurrent delete of the same bytes can never remove a file a new item uses.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import BinaryIO

import peewee

from ... import clock, errors
from ...db import database, write_transaction
from ...identifiers import is_valid_server_name
from ...models.media import Media, MediaContent
from .. import user_lock
from ..policy import ratelimit, suspension
from ..policy.requester import Requester
from . import ids
from .storage import MediaStore, StagedFile

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_CONTENT_TYPE = re.compile(
    r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+([ \t]*;[ \t]*[\x20-\x7e]*)?")
MAX_FILENAME_LENGTH = 1024
# Recording every download as a write would turn reads into writes; this is precise enough for
# "purge media not accessed for N days".
ACCESS_GRANULARITY_MS = 10 * 60 * 1000
DEFAULT_TIMEOUT_MS = 20_000
SUSPENDED_MESSAGE = "Suspended accounts cannot upload media"


@dataclass(frozen=True)
class UploadRequest:
    uploader: Requester
    content_type: str | None
    filename: str | None
    declared_length: int | None

    @property
    def user_id(self) -> str:
        return self.uploader.user_id


def normalize_content_type(value: str | None) -> str:
    """The Content-Type to store: the client's when it is a well-formed media type."""
    if not value:
        return DEFAULT_CONTENT_TYPE
    value = value.strip()
    if len(value) > 255 or not _CONTENT_TYPE.fullmatch(value):
        return DEFAULT_CONTENT_TYPE
    return value


def check_filename(filename: str | None) -> str | None:
    if filename is None or filename == "":
        return None
    if len(filename) > MAX_FILENAME_LENGTH:
        raise errors.InvalidParam("filename is too long")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in filename):
        raise errors.InvalidParam("filename contains control characters")
    return filename


def _is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


def lock_content(sha256: str) -> MediaContent | None:
    """The content row, locked until the end of the transaction (PostgreSQL; SQLite's writer
    lock already serializes)."""
    query = MediaContent.select().where(MediaContent.sha256 == sha256)
    if _is_postgres():
        query = query.for_update()
    return query.first()


# --- quotas -------------------------------------------------------------------------------------

def bytes_used(user_id: str) -> int:
    total = (Media.select(peewee.fn.COALESCE(peewee.fn.SUM(Media.size), 0))
             .where((Media.user_id == user_id) & Media.sha256.is_null(False)).scalar())
    return int(total or 0)


def _check_quota(media_config: dict, user_id: str, incoming: int | None) -> None:
    quota = media_config["max_bytes_per_user"]
    if quota is None or incoming is None:
        return
    if bytes_used(user_id) + incoming > quota:
        raise errors.Forbidden("Cannot upload this content: your media storage quota is used up")


def _check_declared_size(media_config: dict, declared_length: int | None) -> None:
    limit = media_config["max_upload_size"]
    if declared_length is not None and declared_length > limit:
        raise errors.TooLarge(f"Cannot upload files larger than {limit} bytes")


# --- uploads ------------------------------------------------------------------------------------

def _commit_content(store: MediaStore, staged: StagedFile) -> None:
    """In a write transaction: claim the content row, refuse quarantined bytes, place the file."""
    (MediaContent.insert(sha256=staged.sha256, size=staged.size, created_ts=clock.now_ms())
     .on_conflict(conflict_target=[MediaContent.sha256], update={MediaContent.size: staged.size})
     .execute())
    if MediaContent.get(MediaContent.sha256 == staged.sha256).quarantined:
        raise errors.Forbidden("Cannot upload this content")
    store.place(staged)


def upload(config, store: MediaStore, request: UploadRequest, stream: BinaryIO, *,
           rate_rule: dict | None) -> str:
    """POST /_matrix/media/v3/upload: store the body as a new media item; returns its mxc URI.
    Refused to a suspended account and counted under ``rate_rule``
    (``rate_limits.media_upload_per_user``) before any byte of the body is read."""
    suspension.ensure_not_suspended(request.uploader, SUSPENDED_MESSAGE)
    ratelimit.charge("media_upload", request.uploader, rate_rule)
    media_config = config.media
    filename = check_filename(request.filename)
    _check_declared_size(media_config, request.declared_length)
    _check_quota(media_config, request.user_id, request.declared_length)
    staged = store.receive(stream, media_config["max_upload_size"])
    try:
        with write_transaction():
            user_lock.lock_user(request.user_id)
            _check_quota(media_config, request.user_id, staged.size)
            media_id = ids.new_media_id()
            now = clock.now_ms()
            Media.create(media_id=media_id, user_id=request.user_id,
                         content_type=normalize_content_type(request.content_type),
                         upload_name=filename, sha256=staged.sha256, size=staged.size,
                         created_ts=now, uploaded_ts=now)
            _commit_content(store, staged)
    finally:
        store.discard(staged)
    return ids.mxc_uri(config.server_name, media_id)


def store_server_media(config, store: MediaStore, data: bytes, content_type: str,
                       filename: str | None) -> tuple[str, str]:
    """Media the server stores on its own behalf (URL preview images): (media_id, mxc URI)."""
    staged = store.stage_bytes(data)
    try:
        with write_transaction():
            media_id = ids.new_media_id()
            now = clock.now_ms()
            Media.create(media_id=media_id, user_id=None,
                         content_type=normalize_content_type(content_type),
                         upload_name=check_filename(filename), sha256=staged.sha256,
                         size=staged.size, created_ts=now, uploaded_ts=now)
            _commit_content(store, staged)
    finally:
        store.discard(staged)
    return media_id, ids.mxc_uri(config.server_name, media_id)


def create_pending(config, requester: Requester, *, rate_rule: dict | None) -> dict:
    """POST /_matrix/media/v1/create: a new mxc URI whose content comes later (refused to a
    suspended account, counted under ``rate_rule`` like an upload)."""
    suspension.ensure_not_suspended(requester, SUSPENDED_MESSAGE)
    ratelimit.charge("media_upload", requester, rate_rule)
    user_id = requester.user_id
    media_config = config.media
    now = clock.now_ms()
    with write_transaction():
        # Counted under the user's lock: concurrent creates cannot both take the last slot.
        user_lock.lock_user(user_id)
        # Expired reservations of this user are dropped here; `homeserver media purge` drops
        # everyone else's.
        Media.delete().where((Media.user_id == user_id) & Media.sha256.is_null()
                             & (Media.unused_expires_ts <= now)).execute()
        pending = (Media.select(peewee.fn.COUNT(Media.media_id),
                                peewee.fn.MIN(Media.unused_expires_ts))
                   .where((Media.user_id == user_id) & Media.sha256.is_null())
                   .tuples().first())
        count, earliest = pending or (0, None)
        if count >= media_config["max_pending_uploads_per_user"]:
            raise errors.LimitExceeded(max(1000, (earliest or now) - now),
                                       "Too many pending media uploads")
        media_id = ids.new_media_id()
        expires = now + media_config["unused_expiration_ms"]
        Media.create(media_id=media_id, user_id=user_id, created_ts=now,
                     unused_expires_ts=expires)
    return {"content_uri": ids.mxc_uri(config.server_name, media_id),
            "unused_expires_at": expires}


def _pending_for_upload(config, user_id: str, server_name: str, media_id: str) -> Media:
    if server_name != config.server_name or not ids.is_valid_media_id(media_id):
        raise errors.NotFound("Unknown media ID")
    row = Media.get_or_none(Media.media_id == media_id)
    if row is None:
        raise errors.NotFound("Unknown media ID")
    if row.sha256 is not None:
        if row.user_id != user_id:
            raise errors.Forbidden("This media ID belongs to another user")
        raise errors.CannotOverwriteMedia("Media already uploaded")
    if row.unused_expires_ts is not None and row.unused_expires_ts <= clock.now_ms():
        raise errors.NotFound("This media ID has expired")
    if row.user_id != user_id:
        raise errors.Forbidden("This media ID belongs to another user")
    return row


def upload_to_pending(config, store: MediaStore, request: UploadRequest, server_name: str,
                      media_id: str, stream: BinaryIO) -> None:
    """PUT /_matrix/media/v3/upload/{serverName}/{mediaId}: the content of a created mxc URI
    (its creation was counted; a suspended account is refused)."""
    suspension.ensure_not_suspended(request.uploader, SUSPENDED_MESSAGE)
    media_config = config.media
    _pending_for_upload(config, request.user_id, server_name, media_id)
    filename = check_filename(request.filename)
    _check_declared_size(media_config, request.declared_length)
    _check_quota(media_config, request.user_id, request.declared_length)
    staged = store.receive(stream, media_config["max_upload_size"])
    try:
        with write_transaction():
            user_lock.lock_user(request.user_id)
            _check_quota(media_config, request.user_id, staged.size)
            now = clock.now_ms()
            updated = (Media.update(sha256=staged.sha256, size=staged.size,
                                    content_type=normalize_content_type(request.content_type),
                                    upload_name=filename, uploaded_ts=now,
                                    unused_expires_ts=None)
                       .where((Media.media_id == media_id) & (Media.user_id == request.user_id)
                              & Media.sha256.is_null()
                              & (Media.unused_expires_ts > now))
                       .execute())
            if updated != 1:
                # Another request uploaded it (or it expired) while these bytes were arriving.
                _pending_for_upload(config, request.user_id, server_name, media_id)
                raise errors.CannotOverwriteMedia("Media already uploaded")
            _commit_content(store, staged)
    finally:
        store.discard(staged)


# --- finding content to serve -------------------------------------------------------------------

@dataclass(frozen=True)
class StoredMedia:
    media_id: str
    sha256: str
    size: int
    content_type: str
    upload_name: str | None
    uploaded_ts: int
    last_access_ts: int | None = None


def _lookup(media_id: str) -> tuple[Media | None, bool]:
    """(row, quarantined)."""
    row = (Media.select(Media, MediaContent.quarantined.alias("content_quarantined"))
           .join(MediaContent, peewee.JOIN.LEFT_OUTER,
                 on=(Media.sha256 == MediaContent.sha256))
           .where(Media.media_id == media_id).objects().first())
    if row is None:
        return None, False
    return row, bool(row.quarantined or getattr(row, "content_quarantined", False))


def find_for_serving(config, server_name: str, media_id: str, timeout_ms: int | None, *,
                     legacy: bool = False) -> StoredMedia:
    """The uploaded content behind an mxc URI, waiting up to ``timeout_ms`` for a pending
    upload (504 M_NOT_YET_UPLOADED after that). 404 M_NOT_FOUND for anything not servable:
    another server's media (no federation), unknown, expired, quarantined, or frozen for the
    deprecated unauthenticated endpoints."""
    if not is_valid_server_name(server_name) or not ids.is_valid_media_id(media_id):
        raise errors.NotFound("Not found")
    if server_name != config.server_name:
        raise errors.NotFound("Media of other servers is not available here")
    media_config = config.media
    if timeout_ms is None:
        timeout_ms = DEFAULT_TIMEOUT_MS
    deadline = time.monotonic() + min(max(timeout_ms, 0), media_config["max_wait_ms"]) / 1000
    cutoff = media_config["legacy_unauthenticated_cutoff_ts"] if legacy else None
    if f"mxc://{server_name}/{media_id}" in {p["idp_icon"] for p in config.oidc_providers}:
        # SSO identity provider icons: shown on login screens, before clients have a token
        # (spec: the m.login.sso flow's icon asks servers to keep them out of the freeze).
        cutoff = None
    delay = 0.1
    while True:
        row, quarantined = _lookup(media_id)
        now = clock.now_ms()
        if row is None or quarantined:
            raise errors.NotFound("Not found")
        if cutoff is not None and (row.uploaded_ts or row.created_ts) >= cutoff:
            raise errors.NotFound(
                "This media is only available through the authenticated media endpoints")
        if row.sha256 is not None:
            return StoredMedia(row.media_id, row.sha256, row.size, row.content_type,
                               row.upload_name, row.uploaded_ts, row.last_access_ts)
        if row.unused_expires_ts is not None and row.unused_expires_ts <= now:
            raise errors.NotFound("Not found")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise errors.NotYetUploaded("Content has not yet been uploaded")
        # Hold no database connection while waiting (the upload may come from another worker).
        if not database.obj.in_transaction():
            database.obj.close()
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, 1.0)


def record_access(stored: StoredMedia) -> None:
    now = clock.now_ms()
    if stored.last_access_ts is not None and stored.last_access_ts >= now - ACCESS_GRANULARITY_MS:
        return  # recorded recently enough: no write for this read
    media_id = stored.media_id
    try:
        (Media.update(last_access_ts=now)
         .where((Media.media_id == media_id)
                & (Media.last_access_ts.is_null()
                   | (Media.last_access_ts < now - ACCESS_GRANULARITY_MS)))
         .execute())
    except peewee.OperationalError:
        # A busy database must not fail a download just to note when it was read.
        pass
