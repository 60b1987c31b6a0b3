"""Administration of the content repository: listing, deleting, purging, quarantine, disk use.

Deleting a media item removes its stored bytes (and their thumbnails) only when no other item
points at the same content; the content row is locked first so that a concurrent upload of the
same bytes either keeps the file or puts it back (see ``repository``).
"""

from __future__ import annotations

import os
import time

import peewee

from ... import clock
from ...db import write_transaction
from ...models.media import Media, MediaContent, MediaThumbnail, UrlPreview
from . import ids
from .repository import lock_content
from .storage import MediaStore

DAY_MS = 24 * 3600 * 1000
# Temporary files older than this belong to uploads that died with their worker.
STALE_TMP_S = 24 * 3600


def media_id_from(reference: str, server_name: str) -> str | None:
    """A media ID from ``mxc://server/id`` (this server's) or a bare ID; None if neither."""
    if reference.startswith("mxc://"):
        parsed = ids.parse_mxc(reference)
        if parsed is None or parsed[0] != server_name:
            return None
        return parsed[1]
    return reference if ids.is_valid_media_id(reference) else None


def _describe(row: Media, server_name: str) -> dict:
    return {"media_id": row.media_id, "mxc": ids.mxc_uri(server_name, row.media_id),
            "user_id": row.user_id, "content_type": row.content_type,
            "upload_name": row.upload_name, "size": row.size, "sha256": row.sha256,
            "created_ts": row.created_ts, "uploaded_ts": row.uploaded_ts,
            "last_access_ts": row.last_access_ts, "quarantined": row.quarantined}


def list_media(server_name: str, user_id: str | None = None, limit: int | None = None) -> list:
    query = Media.select().order_by(Media.created_ts.desc(), Media.media_id)
    if user_id is not None:
        query = query.where(Media.user_id == user_id)
    if limit is not None:
        query = query.limit(limit)
    return [_describe(row, server_name) for row in query]


def _delete_unreferenced(store: MediaStore, hashes: set[str]) -> int:
    """Inside a write transaction: drop content no media item points at any more."""
    removed = 0
    for sha256 in sorted(hashes):
        content = lock_content(sha256)
        if Media.select().where(Media.sha256 == sha256).exists():
            continue
        MediaThumbnail.delete().where(MediaThumbnail.sha256 == sha256).execute()
        # Quarantined bytes keep their row so that uploading them again stays refused.
        if content is None or not content.quarantined:
            MediaContent.delete().where(MediaContent.sha256 == sha256).execute()
        store.remove_content(sha256)
        removed += 1
    return removed


def remove_unreferenced(store: MediaStore, hashes: set[str]) -> int:
    """Remove stored content no media item points at any more (after items were deleted
    elsewhere, e.g. by an erasure)."""
    with write_transaction():
        return _delete_unreferenced(store, hashes)


def delete_media(store: MediaStore, media_ids: list[str]) -> dict:
    """Delete media items (and their bytes when nothing else uses them)."""
    with write_transaction():
        rows = list(Media.select(Media.media_id, Media.sha256)
                    .where(Media.media_id.in_(media_ids)))
        hashes = {row.sha256 for row in rows if row.sha256}
        deleted = Media.delete().where(Media.media_id.in_([r.media_id for r in rows])).execute()
        files = _delete_unreferenced(store, hashes)
    return {"deleted": deleted, "files_removed": files}


def purge(store: MediaStore, *, uploaded_before_ts: int | None = None,
          not_accessed_since_ts: int | None = None) -> dict:
    """Delete local media uploaded before a time and/or not read since a time (media never
    read counts from its upload), plus expired reservations, expired URL previews and stale
    temporary files. Quarantined media is kept (it is evidence)."""
    now = clock.now_ms()
    selected = []
    if uploaded_before_ts is not None or not_accessed_since_ts is not None:
        query = (Media.select(Media.media_id)
                 .join(MediaContent, on=(Media.sha256 == MediaContent.sha256))
                 .where((Media.quarantined == False)  # noqa: E712
                        & (MediaContent.quarantined == False)))  # noqa: E712
        if uploaded_before_ts is not None:
            query = query.where(Media.uploaded_ts < uploaded_before_ts)
        if not_accessed_since_ts is not None:
            last_read = peewee.fn.COALESCE(Media.last_access_ts, Media.uploaded_ts)
            query = query.where(last_read < not_accessed_since_ts)
        selected = [row.media_id for row in query]
    result = {"deleted": 0, "files_removed": 0}
    for start in range(0, len(selected), 500):
        batch = delete_media(store, selected[start:start + 500])
        result["deleted"] += batch["deleted"]
        result["files_removed"] += batch["files_removed"]
    result["expired_reservations"] = delete_expired_reservations(now)
    result["expired_previews"] = delete_expired_previews(now)
    result["stale_temporary_files"] = _remove_stale_tmp(store)
    return result


def delete_expired_reservations(now: int, limit: int | None = None) -> int:
    """Media IDs created (POST /create) but never uploaded, past their expiry."""
    expired = Media.sha256.is_null() & (Media.unused_expires_ts <= now)
    if limit is not None:
        expired = Media.media_id.in_(Media.select(Media.media_id).where(expired).limit(limit))
    with write_transaction():
        return Media.delete().where(expired).execute()


def delete_expired_previews(now: int, limit: int | None = None) -> int:
    """Cached URL previews past their expiry."""
    expired = UrlPreview.expires_ts <= now
    if limit is not None:
        expired = UrlPreview.url_hash.in_(
            UrlPreview.select(UrlPreview.url_hash).where(expired).limit(limit))
    with write_transaction():
        return UrlPreview.delete().where(expired).execute()


def _remove_stale_tmp(store: MediaStore) -> int:
    removed = 0
    # Compared with file modification times, which the OS keeps in wall-clock seconds: not the
    # server's clock (services never read time.time otherwise; tests/unit/test_clock.py).
    limit = time.time() - STALE_TMP_S
    for name in os.listdir(store.tmp_dir):
        path = os.path.join(store.tmp_dir, name)
        try:
            if os.stat(path).st_mtime < limit:
                os.unlink(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def set_quarantine(media_id: str, quarantined: bool = True, by: str | None = None) -> bool:
    """Quarantine an item and its bytes (``by`` an admin): no copy of them is served and they
    cannot be uploaded again. False when there is no such item."""
    with write_transaction():
        row = Media.get_or_none(Media.media_id == media_id)
        if row is None:
            return False
        Media.update(quarantined=quarantined, quarantined_by=by if quarantined else None).where(
            Media.media_id == media_id).execute()
        if row.sha256:
            MediaContent.update(quarantined=quarantined).where(
                MediaContent.sha256 == row.sha256).execute()
            if not quarantined:
                # Other items with the same bytes become servable again too.
                Media.update(quarantined=False, quarantined_by=None).where(
                    Media.sha256 == row.sha256).execute()
    return True


# Orderings of Synapse's GET /_synapse/admin/v1/users/{userId}/media.
_MEDIA_ORDERS = {"media_id": Media.media_id, "upload_name": Media.upload_name,
                 "created_ts": Media.created_ts, "last_access_ts": Media.last_access_ts,
                 "media_length": Media.size, "media_type": Media.content_type,
                 "quarantined_by": Media.quarantined_by, "safe_from_quarantine": Media.media_id}


def user_media_page(user_id: str, *, offset: int, limit: int, order_by: str,
                    backwards: bool) -> tuple[list[Media], int]:
    """One page of a user's uploaded media in Synapse's orderings, and how many there are."""
    query = Media.select().where((Media.user_id == user_id) & Media.sha256.is_null(False))
    key = _MEDIA_ORDERS[order_by]
    order = [key.desc() if backwards else key.asc(),
             Media.media_id.desc() if backwards else Media.media_id.asc()]
    return list(query.order_by(*order).offset(offset).limit(limit)), query.count()


def quarantine_user_media(user_id: str, by: str) -> int:
    """Quarantine every item a user uploaded; returns how many."""
    ids = [row.media_id for row in Media.select(Media.media_id).where(
        (Media.user_id == user_id) & Media.sha256.is_null(False))]
    return sum(1 for media_id in ids if set_quarantine(media_id, True, by))


def usage(store: MediaStore, top: int = 10) -> dict:
    """What media costs: items, bytes as uploaded, bytes stored (deduplicated), thumbnails, the
    biggest uploaders, and what is actually on disk."""
    items, uploaded = (Media.select(peewee.fn.COUNT(Media.media_id),
                                    peewee.fn.COALESCE(peewee.fn.SUM(Media.size), 0))
                       .where(Media.sha256.is_null(False)).tuples().first())
    files, stored = (MediaContent.select(peewee.fn.COUNT(MediaContent.sha256),
                                         peewee.fn.COALESCE(peewee.fn.SUM(MediaContent.size), 0))
                     .tuples().first())
    thumbs, thumb_bytes = (MediaThumbnail.select(
        peewee.fn.COUNT(MediaThumbnail.sha256),
        peewee.fn.COALESCE(peewee.fn.SUM(MediaThumbnail.size), 0)).tuples().first())
    total = peewee.fn.SUM(Media.size)
    users = (Media.select(Media.user_id, peewee.fn.COUNT(Media.media_id), total)
             .where(Media.sha256.is_null(False))
             .group_by(Media.user_id).order_by(total.desc()).limit(top).tuples())
    return {
        "media_items": int(items or 0), "uploaded_bytes": int(uploaded or 0),
        "stored_files": int(files or 0), "stored_bytes": int(stored or 0),
        "thumbnails": int(thumbs or 0), "thumbnail_bytes": int(thumb_bytes or 0),
        "top_users": [{"user_id": user_id, "media_items": int(count), "bytes": int(size or 0)}
                      for user_id, count, size in users],
        "disk": store.disk_usage(),
    }
