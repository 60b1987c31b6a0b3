"""Content repository endpoints (spec: Module "Content repository").

Authenticated: ``/_matrix/client/v1/media/{download,thumbnail,config,preview_url}``.
Uploads: ``/_matrix/media/v3/upload``, ``/_matrix/media/v1/create``. The deprecated
``/_matrix/media/v3/{download,thumbnail}`` are served without authentication only for media
uploaded before ``media.legacy_unauthenticated_cutoff_ts`` (the spec's "freeze").
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, send_file

from .. import errors
from ..schemas.media import DownloadArgs, PreviewArgs, ThumbnailArgs, UploadArgs
from ..services.media import previews, repository, serving, storage, thumbnails
from .http import config, load_args, rate_rule, require_auth

bp = Blueprint("media", __name__)

CLIENT_MEDIA = "/_matrix/client/v1/media"
MEDIA_V1 = "/_matrix/media/v1"
MEDIA_V3 = "/_matrix/media/v3"
# Content never changes behind an mxc URI; only deletion or quarantine can take it away.
CACHE_CONTROL = "private, max-age=86400"


def media_store() -> storage.MediaStore:
    cfg = config()
    return storage.store_for(cfg.data_dir, cfg.media["store_path"])


def _upload_request(requester) -> repository.UploadRequest:
    args = load_args(UploadArgs)
    # Uploads have their own, larger body limit than JSON requests.
    request.max_content_length = config().media["max_upload_size"]
    return repository.UploadRequest(uploader=requester,
                                    content_type=request.headers.get("Content-Type"),
                                    filename=args["filename"],
                                    declared_length=request.content_length)


# --- uploads ------------------------------------------------------------------------------------

@bp.post(f"{MEDIA_V3}/upload")
def upload():
    upload_request = _upload_request(require_auth())
    uri = repository.upload(config(), media_store(), upload_request, request.stream,
                            rate_rule=rate_rule("media_upload_per_user"))
    return jsonify({"content_uri": uri})


@bp.post(f"{MEDIA_V1}/create")
def create():
    return jsonify(repository.create_pending(config(), require_auth(),
                                             rate_rule=rate_rule("media_upload_per_user")))


@bp.put(f"{MEDIA_V3}/upload/<server_name>/<media_id>")
def upload_to_mxc(server_name, media_id):
    upload_request = _upload_request(require_auth())
    repository.upload_to_pending(config(), media_store(), upload_request, server_name, media_id,
                                 request.stream)
    return jsonify({})


# --- downloads ----------------------------------------------------------------------------------

def _send(path: str, content_type: str, etag: str, headers: dict):
    try:
        response = send_file(path, mimetype=content_type, conditional=True, etag=etag,
                             max_age=None)
    except FileNotFoundError:
        raise errors.NotFound("Not found") from None
    # Exactly the uploaded type (send_file would append a charset to text types).
    response.headers["Content-Type"] = content_type
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.headers.update(headers)
    return response


def _download(server_name: str, media_id: str, file_name: str | None, *, legacy: bool):
    args = load_args(DownloadArgs)
    stored = repository.find_for_serving(config(), server_name, media_id, args["timeout_ms"],
                                         legacy=legacy)
    repository.record_access(stored)
    name = file_name if file_name is not None else stored.upload_name
    return _send(media_store().content_path(stored.sha256), stored.content_type, stored.sha256,
                 serving.download_headers(stored.content_type, name))


def _thumbnail(server_name: str, media_id: str, *, legacy: bool):
    args = load_args(ThumbnailArgs)
    stored = repository.find_for_serving(config(), server_name, media_id, args["timeout_ms"],
                                         legacy=legacy)
    repository.record_access(stored)
    thumb = thumbnails.thumbnail(config().media, media_store(), stored, args["width"],
                                 args["height"], args["method"], bool(args["animated"]))
    headers = {**serving.security_headers(),
               "Content-Disposition": serving.content_disposition("inline", thumb.filename)}
    return _send(thumb.path, thumb.content_type, thumb.etag, headers)


@bp.get(f"{CLIENT_MEDIA}/download/<server_name>/<media_id>")
def download(server_name, media_id):
    require_auth()
    return _download(server_name, media_id, None, legacy=False)


@bp.get(f"{CLIENT_MEDIA}/download/<server_name>/<media_id>/<path:file_name>")
def download_named(server_name, media_id, file_name):
    require_auth()
    return _download(server_name, media_id, file_name, legacy=False)


@bp.get(f"{CLIENT_MEDIA}/thumbnail/<server_name>/<media_id>")
def thumbnail(server_name, media_id):
    require_auth()
    return _thumbnail(server_name, media_id, legacy=False)


@bp.get(f"{MEDIA_V3}/download/<server_name>/<media_id>")
def legacy_download(server_name, media_id):
    return _download(server_name, media_id, None, legacy=True)


@bp.get(f"{MEDIA_V3}/download/<server_name>/<media_id>/<path:file_name>")
def legacy_download_named(server_name, media_id, file_name):
    return _download(server_name, media_id, file_name, legacy=True)


@bp.get(f"{MEDIA_V3}/thumbnail/<server_name>/<media_id>")
def legacy_thumbnail(server_name, media_id):
    return _thumbnail(server_name, media_id, legacy=True)


# --- configuration and URL previews -------------------------------------------------------------

def _media_config():
    require_auth()
    return jsonify({"m.upload.size": config().media["max_upload_size"]})


def _preview_url():
    requester = require_auth()
    args = load_args(PreviewArgs)
    return jsonify(previews.preview(config(), media_store(), requester.user_id, args["url"]))


bp.add_url_rule(f"{CLIENT_MEDIA}/config", "config", _media_config, methods=["GET"])
bp.add_url_rule(f"{MEDIA_V3}/config", "legacy_config", _media_config, methods=["GET"])
bp.add_url_rule(f"{CLIENT_MEDIA}/preview_url", "preview_url", _preview_url, methods=["GET"])
bp.add_url_rule(f"{MEDIA_V3}/preview_url", "legacy_preview_url", _preview_url, methods=["GET"])
