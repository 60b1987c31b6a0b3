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

from media_helpers import image_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
