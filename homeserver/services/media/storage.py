"""Media files on disk, content-addressed: a file is named by the SHA-256 of its bytes.

Everything is written to a temporary file in the store's own ``tmp`` directory (same file
system), flushed to disk, then renamed into place, so a reader never sees a half-written file.
Paths are built only from hex digests and a strict variant grammar, never from request text.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import BinaryIO

from ... import errors

CHUNK_SIZE = 256 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_VARIANT = re.compile(r"[a-z0-9-]{1,64}")


@dataclass
class StagedFile:
    """Bytes received into a temporary file, not yet in the store."""

    path: str
    sha256: str
    size: int


class MediaStore:
    def __init__(self, root: str):
        self.root = os.path.abspath(root)
        self.tmp_dir = os.path.join(self.root, "tmp")
        self.content_dir = os.path.join(self.root, "content")
        self.thumbnail_dir = os.path.join(self.root, "thumbnails")
        for directory in (self.tmp_dir, self.content_dir, self.thumbnail_dir):
            os.makedirs(directory, exist_ok=True)

    # --- paths ---------------------------------------------------------------------------------

    def content_path(self, sha256: str) -> str:
        if not _SHA256.fullmatch(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return os.path.join(self.content_dir, sha256[:2], sha256[2:4], sha256)

    def thumbnail_path(self, sha256: str, variant: str) -> str:
        if not _SHA256.fullmatch(sha256) or not _VARIANT.fullmatch(variant):
            raise ValueError("bad thumbnail name")
        return os.path.join(self.thumbnail_dir, sha256[:2], sha256[2:4], sha256, variant)

    # --- receiving -----------------------------------------------------------------------------

    def receive(self, stream: BinaryIO, limit: int) -> StagedFile:
        """Copy a stream into a temporary file in chunks, hashing as it goes.

        More than ``limit`` bytes aborts with 413 M_TOO_LARGE; the body is never held in memory.
        """
        digest = hashlib.sha256()
        size = 0
        handle = tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="upload-", delete=False)
        try:
            with handle:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > limit:
                        raise errors.TooLarge(f"Cannot upload files larger than {limit} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            _unlink(handle.name)
            raise
        return StagedFile(handle.name, digest.hexdigest(), size)

    def stage_bytes(self, data: bytes) -> StagedFile:
        staged = self.receive(_BytesReader(data), len(data))
        return staged

    def discard(self, staged: StagedFile) -> None:
        _unlink(staged.path)

    def place(self, staged: StagedFile) -> None:
        """Move staged bytes to their content path, unless the same bytes are already there."""
        final = self.content_path(staged.sha256)
        if os.path.exists(final):
            _unlink(staged.path)
            return
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(staged.path, final)

    def has_content(self, sha256: str) -> bool:
        return os.path.exists(self.content_path(sha256))

    def remove_content(self, sha256: str) -> None:
        _unlink(self.content_path(sha256))
        shutil.rmtree(os.path.dirname(self.thumbnail_path(sha256, "x")), ignore_errors=True)

    # --- thumbnails ----------------------------------------------------------------------------

    def write_thumbnail(self, sha256: str, variant: str, data: bytes) -> str:
        final = self.thumbnail_path(sha256, variant)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        handle = tempfile.NamedTemporaryFile(dir=self.tmp_dir, prefix="thumb-", delete=False)
        try:
            with handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(handle.name, final)
        except BaseException:
            _unlink(handle.name)
            raise
        return final

    # --- accounting ----------------------------------------------------------------------------

    def disk_usage(self) -> dict:
        """Bytes and files actually on disk under the store, by area."""
        usage = {}
        for name, directory in (("content", self.content_dir),
                                ("thumbnails", self.thumbnail_dir), ("tmp", self.tmp_dir)):
            total = files = 0
            for parent, _dirs, names in os.walk(directory):
                for file_name in names:
                    try:
                        total += os.stat(os.path.join(parent, file_name)).st_size
                        files += 1
                    except FileNotFoundError:
                        pass
            usage[name] = {"bytes": total, "files": files}
        return usage


class _BytesReader:
    def __init__(self, data: bytes):
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int) -> bytes:
        chunk = bytes(self._data[self._pos:self._pos + size])
        self._pos += len(chunk)
        return chunk


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


_stores: dict[str, MediaStore] = {}


def store_for(data_dir: str, store_path: str | None) -> MediaStore:
    """The store of a configuration (cached per path; it holds no state but its directories)."""
    root = os.path.abspath(store_path or os.path.join(data_dir, "media"))
    store = _stores.get(root)
    if store is None or not os.path.isdir(store.tmp_dir):
        store = _stores[root] = MediaStore(root)
    return store
