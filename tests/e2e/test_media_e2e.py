"""End to end: real gunicorn, real clients. matrix-nio uploads a PNG and a 20 MB file; another
nio client downloads both byte-for-byte and gets a thumbnail of the requested size."""

import asyncio
import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests
from PIL import Image

from helpers.media import image_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(database_url, tmp_path):
    """gunicorn serving this repository on a free port, on the test database (both backends)."""
    port = _free_port()
    config = tmp_path / "homeserver.yaml"
    config.write_text(
        f"server_name: 'localhost:{port}'\ndata_dir: '{tmp_path / 'data'}'\n"
        f"database: '{database_url}'\nlog_level: WARNING\n"
        "registration:\n  enabled: true\nrate_limits:\n  enabled: false\n")
    env = {**os.environ, "HOMESERVER_CONFIG": str(config)}
    env.pop("GUNICORN_CMD_ARGS", None)
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen(
        [os.path.join(BIN, "gunicorn"), "--config", "gunicorn.conf.py", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                if requests.get(base + "/_matrix/client/versions", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(30)
        log.close()


async def _nio_flow(base: str):
    from nio import AsyncClient, DownloadResponse, RegisterResponse, ThumbnailResponse, \
        UploadResponse
    from nio.api import ResizingMethod

    suffix = uuid.uuid4().hex[:8]
    sender = AsyncClient(base, f"nio_sender_{suffix}")
    receiver = AsyncClient(base, f"nio_receiver_{suffix}")
    try:
        for client in (sender, receiver):
            registered = await client.register(client.user, "e2e password 123")
            assert isinstance(registered, RegisterResponse), registered
        png = image_bytes(1600, 1200, color=(20, 120, 220))
        big = os.urandom(20 * 1024 * 1024)

        uploaded, _ = await sender.upload(io.BytesIO(png), content_type="image/png",
                                          filename="photo.png", filesize=len(png))
        assert isinstance(uploaded, UploadResponse), uploaded
        uploaded_big, _ = await sender.upload(io.BytesIO(big),
                                              content_type="application/octet-stream",
                                              filename="big.bin", filesize=len(big))
        assert isinstance(uploaded_big, UploadResponse), uploaded_big

        got = await receiver.download(mxc=uploaded.content_uri)
        assert isinstance(got, DownloadResponse), got
        assert got.body == png
        assert got.content_type == "image/png"
        assert got.filename == "photo.png"
        got_big = await receiver.download(mxc=uploaded_big.content_uri)
        assert isinstance(got_big, DownloadResponse), got_big
        assert hashlib.sha256(got_big.body).digest() == hashlib.sha256(big).digest()

        server_name, media_id = uploaded.content_uri[len("mxc://"):].split("/", 1)
        thumb = await receiver.thumbnail(server_name, media_id, 320, 240, ResizingMethod.scale)
        assert isinstance(thumb, ThumbnailResponse), thumb
        assert Image.open(io.BytesIO(thumb.body)).size == (320, 240)
        crop = await receiver.thumbnail(server_name, media_id, 96, 96, ResizingMethod.crop)
        assert Image.open(io.BytesIO(crop.body)).size == (96, 96)
    finally:
        await sender.close()
        await receiver.close()


def test_matrix_nio_upload_download_thumbnail(server):
    asyncio.run(_nio_flow(server))


JS_DIR = os.path.join(ROOT, "tests", "e2e", "js_media")


@pytest.fixture(scope="session")
def js_sdk():
    """matrix-js-sdk installed from tests/e2e/js_media/package-lock.json (npm ci on first use)."""
    import shutil
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the matrix-js-sdk test")
    import fcntl
    with open(os.path.join(JS_DIR, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers install once
        if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "matrix-js-sdk")):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=JS_DIR, check=True, timeout=600)
    return JS_DIR


def test_matrix_js_sdk_upload_download_thumbnail(server, js_sdk, tmp_path):
    import base64
    import json
    png = image_bytes(500, 400, color=(250, 200, 10))
    source = tmp_path / "sun.png"
    source.write_bytes(png)
    result = subprocess.run(["node", "media.mjs", server, str(source), "image/png", "sun.png"],
                            cwd=js_sdk, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["content_uri"].startswith("mxc://localhost:")
    assert "/_matrix/client/v1/media/download/" in seen["download_url"]
    assert seen["download_status"] == 200
    assert seen["download_type"] == "image/png"
    assert seen["download_sha256"] == hashlib.sha256(png).hexdigest()
    assert seen["thumbnail_status"] == 200
    thumb = Image.open(io.BytesIO(base64.b64decode(seen["thumbnail_base64"])))
    assert thumb.size == (96, 96)
