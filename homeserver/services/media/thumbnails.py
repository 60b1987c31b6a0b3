"""Thumbnails with Pillow, to the spec's "crop" and "scale" semantics.

Thumbnails are made only at the configured sizes (``media.thumbnail_sizes``), on first request,
and stored (file + ``MediaThumbnail`` row) per content hash, so their number per file is bounded
whatever sizes clients ask for. A request is answered with the smallest stored size that is not
smaller than what was asked; when none is large enough, or the image already fits, the original
is served (the spec: never upscale, never smaller than requested, original when it is smaller).

Safety: only a few well-known formats are ever opened, and an image's header is read before
anything is decoded so that one with more pixels than ``media.max_image_pixels`` is refused.
"""

from __future__ import annotations

import functools
import io
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError
# Registering exactly the decoders in SAFE_FORMATS (Pillow registers most others lazily).
from PIL import (BmpImagePlugin, GifImagePlugin, JpegImagePlugin,  # noqa: F401
                 PngImagePlugin, WebPImagePlugin)

from ... import clock, errors
from ...db import database, write_transaction
from ...models.media import MediaThumbnail
from .repository import StoredMedia
from .storage import MediaStore

# Decoders Pillow may use on uploaded bytes; exotic formats stay closed to attackers.
# (camera "MPO" files open through the JPEG decoder.)
SAFE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
FORMAT_MIME = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
               "WEBP": "image/webp"}
# Originals in these formats may be served as thumbnails as they are.
SERVABLE_FORMATS = frozenset(FORMAT_MIME)
_EXTENSION = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_SWAPPED_ORIENTATIONS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112
JPEG_QUALITY = 80
# Box-reduce to twice the target, then Lanczos: ~3x faster than a 3x gap, same look at this size.
REDUCING_GAP = 2.0
# Thumbnails are small; zlib level 3 costs a fifth of level 6 for a few percent more bytes.
PNG_COMPRESS_LEVEL = 3
WEBP_QUALITY = 75


@dataclass(frozen=True)
class Thumbnail:
    path: str
    content_type: str
    filename: str
    etag: str


@dataclass(frozen=True)
class ImageInfo:
    width: int  # as displayed (EXIF orientation applied)
    height: int
    format: str
    animated: bool
    frames: int
    swapped: bool


def cannot_thumbnail() -> errors.MatrixError:
    return errors.Unknown("Cannot generate thumbnails for the requested content")


def too_large() -> errors.MatrixError:
    return errors.TooLarge("Content is too large to thumbnail")


@functools.lru_cache(maxsize=4096)
def probe(path: str, max_pixels: int) -> ImageInfo:
    """Read an image's header (no pixel data). 400 for non-images, 413 above the pixel limit.

    Cached per process: the path names content by its hash, so what it says never changes
    (failures raise and so are not cached)."""
    try:
        with Image.open(path, formats=SAFE_FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise too_large()
            # JPEG and WebP carry EXIF in their headers; a PNG's may follow the pixel data, and
            # reading it would decode the whole image, so PNGs are taken as they are.
            orientation = image.getexif().get(_EXIF_ORIENTATION) if image.format in (
                "JPEG", "MPO", "WEBP") else None
            animated = bool(getattr(image, "is_animated", False)) and image.format != "MPO"
            frames = int(getattr(image, "n_frames", 1)) if animated else 1
            swapped = orientation in _SWAPPED_ORIENTATIONS
            if swapped:
                width, height = height, width
            return ImageInfo(width, height, image.format, animated, frames, swapped)
    except errors.MatrixError:
        raise
    except FileNotFoundError:
        raise errors.NotFound("Not found") from None
    except Image.DecompressionBombError:
        raise too_large() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise cannot_thumbnail() from None


# --- choosing a size ----------------------------------------------------------------------------

def scale_dimensions(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """"scale": the largest size within the box keeping the aspect ratio, never upscaled."""
    if width <= box_w and height <= box_h:
        return width, height
    if box_w * height <= box_h * width:
        return box_w, max(1, round(height * box_w / width))
    return max(1, round(width * box_h / height)), box_h


def crop_dimensions(width: int, height: int, box_w: int, box_h: int) -> tuple[int, int]:
    """"crop": the box's size (and so its aspect ratio), cut down to the source where smaller."""
    return min(box_w, width), min(box_h, height)


def choose_size(info: ImageInfo, sizes: list[dict], width: int, height: int,
                method: str) -> tuple[int, int] | None:
    """The configured (width, height) to answer with, or None to serve the full image."""
    if info.width <= width and info.height <= height:
        return None  # the image is smaller than asked for: the original, not a thumbnail
    candidates = [(s["width"], s["height"]) for s in sizes if s["method"] == method]
    if method == "scale":
        wanted = scale_dimensions(info.width, info.height, width, height)
        fitting = [(cw * ch, (cw, ch)) for cw, ch in candidates
                   if all(got >= need for got, need in zip(
                       scale_dimensions(info.width, info.height, cw, ch), wanted))]
        if not fitting:
            return None
        choice = min(fitting)[1]
        if scale_dimensions(info.width, info.height, *choice) == (info.width, info.height):
            return None
        return choice
    aspect = width / height
    fitting = [(abs(cw / ch - aspect), cw * ch, (cw, ch)) for cw, ch in candidates
               if cw >= width and ch >= height]
    if not fitting:
        return None
    choice = min(fitting)[2]
    if crop_dimensions(info.width, info.height, *choice) == (info.width, info.height):
        return None
    return choice


# --- rendering ----------------------------------------------------------------------------------

def _static_output(info: ImageInfo, image: Image.Image) -> tuple[str, str]:
    """(Pillow format, content type) of a static thumbnail: JPEG for opaque photos, else PNG."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if info.format in ("JPEG", "MPO") and not has_alpha:
        return "JPEG", "image/jpeg"
    return "PNG", "image/png"


def _resize(frame: Image.Image, target: tuple[int, int], method: str) -> Image.Image:
    width, height = frame.size
    if method == "scale":
        size = scale_dimensions(width, height, *target)
        if size == (width, height):
            return frame.copy()
        return frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    out_w, out_h = crop_dimensions(width, height, *target)
    # Scale so the box is covered, then take the centre.
    factor = max(out_w / width, out_h / height)
    region_w, region_h = out_w / factor, out_h / factor
    left, top = (width - region_w) / 2, (height - region_h) / 2
    box = (left, top, left + region_w, top + region_h)
    return frame.resize((out_w, out_h), Image.Resampling.LANCZOS, box=box,
                        reducing_gap=REDUCING_GAP)


def _normalize_mode(frame: Image.Image) -> Image.Image:
    if frame.mode in ("RGB", "RGBA", "L", "LA"):
        return frame
    if frame.mode in ("P", "PA"):
        return frame.convert("RGBA")
    return frame.convert("RGB")


def _decode_size(info: ImageInfo, target: tuple[int, int], method: str) -> tuple[int, int]:
    """The smallest decoded size (as stored, before EXIF rotation) the thumbnail needs."""
    if method == "scale":
        need = scale_dimensions(info.width, info.height, *target)
    else:
        factor = min(1.0, max(target[0] / info.width, target[1] / info.height))
        need = (math.ceil(info.width * factor), math.ceil(info.height * factor))
    return (need[1], need[0]) if info.swapped else need


def render_static(path: str, info: ImageInfo, target: tuple[int, int] | None,
                  method: str) -> tuple[bytes, str, int, int]:
    """The first frame, resized (or at full size when ``target`` is None)."""
    with Image.open(path, formats=SAFE_FORMATS) as image:
        if target is not None and info.format in ("JPEG", "MPO"):
            # Let libjpeg decode at a reduced scale (still at least the target size).
            image.draft("RGB", _decode_size(info, target, method))
        image.seek(0)
        frame = ImageOps.exif_transpose(image)
        frame = _normalize_mode(frame)
        if target is not None:
            frame = _resize(frame, target, method)
        pil_format, content_type = _static_output(info, frame)
        if pil_format == "JPEG" and frame.mode != "RGB":
            frame = frame.convert("RGB")
        out = io.BytesIO()
        if pil_format == "JPEG":
            frame.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        else:
            frame.save(out, "PNG", optimize=False, compress_level=PNG_COMPRESS_LEVEL)
        return out.getvalue(), content_type, frame.width, frame.height


def render_animated(path: str, target: tuple[int, int], method: str) -> tuple[bytes, str, int, int]:
    """Every frame resized, as an animated WebP (what the spec prefers for animation)."""
    with Image.open(path, formats=SAFE_FORMATS) as image:
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            durations.append(int(frame.info.get("duration", 100)) or 100)
            frames.append(_resize(frame.convert("RGBA"), target, method))
        out = io.BytesIO()
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=durations,
                       loop=int(image.info.get("loop", 0)), quality=WEBP_QUALITY)
        return out.getvalue(), "image/webp", frames[0].width, frames[0].height


# --- decoding slots -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _semaphore(slots: int) -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(slots)


@contextmanager
def decode_slot(media_config: dict):
    """One of the process's ``media.max_concurrent_thumbnails`` decoding slots. A request
    that finds none free within ``media.thumbnail_wait_ms`` gets 429 M_LIMIT_EXCEEDED: decoding
    costs CPU and memory, and a burst of thumbnail requests must not take every core."""
    semaphore = _semaphore(media_config["max_concurrent_thumbnails"])
    if not semaphore.acquire(blocking=False):
        wait_s = media_config["thumbnail_wait_ms"] / 1000
        if not database.obj.in_transaction():
            database.obj.close()  # hold no database connection while waiting
        if wait_s <= 0 or not semaphore.acquire(timeout=wait_s):
            raise errors.LimitExceeded(1000, "Too many thumbnails are being made; try again")
    try:
        yield
    finally:
        semaphore.release()


# --- the entry point ----------------------------------------------------------------------------

def _stored(store: MediaStore, sha256: str, variant: str) -> Thumbnail | None:
    row = MediaThumbnail.get_or_none((MediaThumbnail.sha256 == sha256)
                                     & (MediaThumbnail.variant == variant))
    if row is None:
        return None
    path = store.thumbnail_path(sha256, variant)
    if not os.path.exists(path):
        return None
    return Thumbnail(path, row.content_type, _filename(row.content_type), f"{sha256}-{variant}")


def _filename(content_type: str) -> str:
    return f"thumbnail.{_EXTENSION.get(content_type, 'png')}"


def _save(store: MediaStore, sha256: str, variant: str, data: bytes, content_type: str,
          width: int, height: int) -> Thumbnail:
    path = store.write_thumbnail(sha256, variant, data)
    fields = dict(content_type=content_type, width=width, height=height, size=len(data),
                  created_ts=clock.now_ms())
    with write_transaction():
        MediaThumbnail.insert(sha256=sha256, variant=variant, **fields).on_conflict(
            conflict_target=[MediaThumbnail.sha256, MediaThumbnail.variant],
            update=fields).execute()
    return Thumbnail(path, content_type, _filename(content_type), f"{sha256}-{variant}")


def thumbnail(media_config: dict, store: MediaStore, stored: StoredMedia, width: int,
              height: int, method: str, animated: bool) -> Thumbnail:
    source = store.content_path(stored.sha256)
    max_pixels = media_config["max_image_pixels"]
    info = probe(source, max_pixels)
    animate = animated and info.animated and info.width * info.height * info.frames <= max_pixels
    size = choose_size(info, media_config["thumbnail_sizes"], width, height, method)

    if size is None:
        # The full image: the original itself when it is safe to serve as a thumbnail.
        if info.format in SERVABLE_FORMATS and (animate or not info.animated) and not info.swapped:
            content_type = FORMAT_MIME[info.format]
            return Thumbnail(source, content_type, _filename(content_type), stored.sha256)
        variant = "full"
        found = _stored(store, stored.sha256, variant)
        if found is not None:
            return found
        with decode_slot(media_config):
            data, content_type, out_w, out_h = render_static(source, info, None, method)
        return _save(store, stored.sha256, variant, data, content_type, out_w, out_h)

    variant = f"{size[0]}x{size[1]}-{method}" + ("-animated" if animate else "")
    found = _stored(store, stored.sha256, variant)
    if found is not None:
        return found
    try:
        with decode_slot(media_config):
            if animate:
                data, content_type, out_w, out_h = render_animated(source, size, method)
            else:
                data, content_type, out_w, out_h = render_static(source, info, size, method)
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise errors.NotFound("Not found") from None
        raise cannot_thumbnail() from None
    return _save(store, stored.sha256, variant, data, content_type, out_w, out_h)
