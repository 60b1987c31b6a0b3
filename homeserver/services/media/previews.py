"""URL previews (GET /_matrix/client/v1/media/preview_url): off unless configured.

The page is fetched through ``fetch`` (public addresses only, bounded size and time), its Open
Graph tags are read, and an ``og:image`` is fetched the same way and stored as local media (so
clients get an mxc URI and can ask for thumbnails; one is made right away). Previews are cached
in the database for ``media.url_preview.cache_ttl_ms``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from urllib.parse import unquote, urljoin, urlsplit

from ... import clock, errors
from ...db import write_transaction
from ...models.media import UrlPreview
from . import fetch, opengraph, repository, thumbnails
from .storage import MediaStore

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
PAGE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,image/*;q=0.8,*/*;q=0.5"


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.InvalidParam("Only http and https URLs can be previewed")
    try:
        parts.port
    except ValueError:
        raise errors.InvalidParam("The URL has an invalid port") from None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _cached(url_hash: str) -> dict | None:
    row = UrlPreview.get_or_none(UrlPreview.url_hash == url_hash)
    if row is None or row.expires_ts <= clock.now_ms():
        return None
    return json.loads(row.og)


def _remember(url_hash: str, url: str, og: dict, ttl_ms: int) -> None:
    now = clock.now_ms()
    fields = {"url": url, "og": json.dumps(og), "fetched_ts": now, "expires_ts": now + ttl_ms}
    with write_transaction():
        UrlPreview.insert(url_hash=url_hash, **fields).on_conflict(
            conflict_target=[UrlPreview.url_hash], update=fields).execute()


def _image_preview(config, store: MediaStore, image: fetch.Fetched) -> dict:
    """Store fetched image bytes as media; the og:image* keys describing it (or {} when the
    bytes are not an image we can read)."""
    media_config = config.media
    filename = os.path.basename(unquote(urlsplit(image.url).path)) or None
    content_type = _media_type(image.content_type) or "application/octet-stream"
    media_id, mxc = repository.store_server_media(config, store, image.body, content_type,
                                                  filename[:255] if filename else None)
    stored = repository.find_for_serving(config, config.server_name, media_id, 0)
    try:
        info = thumbnails.probe(store.content_path(stored.sha256),
                                media_config["max_image_pixels"])
        scale_sizes = [s for s in media_config["thumbnail_sizes"] if s["method"] == "scale"]
        if scale_sizes:
            first = scale_sizes[0]
            thumbnails.thumbnail(media_config, store, stored, first["width"], first["height"],
                                 "scale", False)
    except errors.MatrixError:
        return {}
    return {"og:image": mxc, "og:image:type": thumbnails.FORMAT_MIME.get(info.format, content_type),
            "og:image:width": info.width, "og:image:height": info.height,
            "matrix:image:size": len(image.body)}


def _fetch_image(config, store: MediaStore, page_url: str, image_url: str,
                 policy: fetch.FetchPolicy) -> dict:
    absolute = urljoin(page_url, image_url)
    if urlsplit(absolute).scheme not in ("http", "https"):
        return {}
    try:
        image = fetch.fetch(absolute, policy, accept="image/*")
    except fetch.FetchError as exc:
        logger.info("preview image %s not fetched: %s", absolute, exc)
        return {}
    if image.status != 200 or not _media_type(image.content_type).startswith("image/"):
        return {}
    return _image_preview(config, store, image)


def _build(config, store: MediaStore, url: str) -> dict:
    preview_config = config.media["url_preview"]
    policy = fetch.FetchPolicy.from_config(preview_config)
    image_policy = fetch.FetchPolicy.from_config(
        preview_config, max_bytes=config.media["max_upload_size"])
    try:
        page = fetch.fetch(url, policy, accept=PAGE_ACCEPT)
    except fetch.AddressRefused:
        raise errors.Forbidden("This URL may not be previewed") from None
    except fetch.ResponseTooLarge:
        raise errors.TooLarge("The page is too large to preview", status=502) from None
    except fetch.FetchError as exc:
        raise errors.Unknown(f"Could not fetch the URL: {exc}", status=502) from None
    if page.status != 200:
        raise errors.Unknown(f"The URL answered HTTP {page.status}", status=502)
    media_type = _media_type(page.content_type)
    if media_type.startswith("image/"):
        og = _image_preview(config, store, page)
        name = os.path.basename(unquote(urlsplit(page.url).path))
        if name:
            og["og:title"] = name
        return og
    if media_type not in HTML_TYPES:
        return {}
    og = opengraph.parse(opengraph.decode_html(page.body, page.content_type))
    image_url = og.pop("og:image", None)
    for key in [k for k in og if k.startswith("og:image:")]:
        del og[key]
    if isinstance(image_url, str) and image_url:
        og.update(_fetch_image(config, store, page.url, image_url, image_policy))
    return og


def preview(config, store: MediaStore, user_id: str, url: str) -> dict:
    preview_config = config.media["url_preview"]
    if not preview_config["enabled"]:
        raise errors.Unrecognized("URL previews are disabled on this server")
    _check_url(url)
    url_hash = hashlib.sha256(url.encode("utf-8")).hexdigest()
    cached = _cached(url_hash)
    if cached is not None:
        return cached
    og = _build(config, store, url)
    _remember(url_hash, url, og, preview_config["cache_ttl_ms"])
    return og
