"""Helpers shared by the content repository tests (tests/api/test_media*.py)."""

import io
import os

from PIL import Image


SERVER = "localhost:8008"
UPLOAD = "/_matrix/media/v3/upload"
DOWNLOAD = "/_matrix/client/v1/media/download"
THUMBNAIL = "/_matrix/client/v1/media/thumbnail"


def upload(user, data, content_type="application/octet-stream", filename=None):
    """Upload through the API; returns "server/media_id"."""
    path = UPLOAD + (f"?filename={filename}" if filename is not None else "")
    response = user.post(path, data=data, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.get_json()
    uri = response.get_json()["content_uri"]
    assert uri.startswith(f"mxc://{SERVER}/")
    return uri[len("mxc://"):]


def image_bytes(width, height, fmt="PNG", mode="RGB", color=(200, 30, 30), **save):
    image = Image.new(mode, (width, height), color)
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def media_files(app, area="content"):
    root = os.path.join(app.config["HOMESERVER"].data_dir, "media", area)
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]
