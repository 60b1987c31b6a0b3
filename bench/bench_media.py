"""Media benchmark, this homeserver side by side with Synapse: upload and download throughput
of a 10 MB file and thumbnail latency for a 2000x2000 PNG.

    python bench/bench_media.py [--database sqlite|postgresql] [--rounds 10]

Uses the servers of bench/bench.py (Synapse from .bench-venv, made by `make bench`); Synapse
gets its media resource and an upload limit large enough through one extra config file.
Every upload is fresh random bytes (no deduplication helps either server). Thumbnails: "cold"
is the first request after the upload (Synapse makes its thumbnails during the upload, this
server on first request, so "upload+thumb" is the fair sum), "warm" a repeated request.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import requests
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

MB = 1000 * 1000
FILE_SIZE = 10 * MB


class MediaSynapse(bench.Synapse):
    def start(self) -> None:
        extra = os.path.join(self.workdir, "media.yaml")
        with open(extra, "w") as handle:
            handle.write(
                "max_upload_size: 200M\nenable_authenticated_media: true\n"
                "url_preview_enabled: false\n"
                f"listeners:\n  - port: {self.port}\n    bind_addresses: ['127.0.0.1']\n"
                "    type: http\n    tls: false\n    x_forwarded: false\n"
                "    resources:\n      - names: [client, media]\n        compress: false\n")
        original = subprocess.Popen

        def with_media_config(command, *args, **kwargs):
            if "--config-path" in command and "--generate-config" not in command:
                command = [*command, "--config-path", extra]
            return original(command, *args, **kwargs)

        subprocess.Popen = with_media_config
        try:
            super().start()
        finally:
            subprocess.Popen = original


def png_2000(seed: int) -> bytes:
    """A 2000x2000 PNG with photo-like detail (noise over gradients), different per seed."""
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((2000, 2000))
    noise = Image.effect_noise((2000, 2000), 40 + rng.randint(0, 20))
    image = Image.merge("RGB", (base, noise, base.rotate(90)))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def register(base: str) -> str:
    return bench.Api(base).register(f"media{os.urandom(5).hex()}")["access_token"]


def median_ms(values: list[float]) -> float:
    return bench.pct(values, 50)


def run(server: bench.Server, rounds: int) -> dict:
    token = register(server.base)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    upload_url = server.base + "/_matrix/media/v3/upload"

    def upload(data: bytes, content_type: str) -> str:
        response = session.post(upload_url, data=data, headers={"Content-Type": content_type},
                                timeout=300)
        response.raise_for_status()
        return response.json()["content_uri"][len("mxc://"):]

    upload(os.urandom(1000), "application/octet-stream")  # warm-up
    uploads, refs = [], []
    for _ in range(rounds):
        data = os.urandom(FILE_SIZE)
        start = time.perf_counter()
        refs.append(upload(data, "application/octet-stream"))
        uploads.append(time.perf_counter() - start)
    downloads = []
    for ref in refs:
        start = time.perf_counter()
        response = session.get(f"{server.base}/_matrix/client/v1/media/download/{ref}",
                               timeout=300)
        body = response.content
        downloads.append(time.perf_counter() - start)
        assert response.status_code == 200 and len(body) == FILE_SIZE, response.status_code

    cold, warm, upload_and_thumb = [], [], []
    for n in range(max(3, rounds // 2)):
        png = png_2000(n)
        start = time.perf_counter()
        ref = upload(png, "image/png")
        uploaded = time.perf_counter()
        url = (f"{server.base}/_matrix/client/v1/media/thumbnail/{ref}"
               "?width=320&height=240&method=scale")
        response = session.get(url, timeout=120)
        done = time.perf_counter()
        assert response.status_code == 200, response.text[:200]
        cold.append(done - uploaded)
        upload_and_thumb.append(done - start)
        start = time.perf_counter()
        session.get(url, timeout=120).raise_for_status()
        warm.append(time.perf_counter() - start)
    return {
        "upload MB/s": FILE_SIZE * len(uploads) / MB / sum(uploads),
        "download MB/s": FILE_SIZE * len(downloads) / MB / sum(downloads),
        "thumb cold p50 ms": median_ms(cold),
        "thumb warm p50 ms": median_ms(warm),
        "upload+thumb p50 ms": median_ms(upload_and_thumb),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    results = {}
    for cls in (bench.Ours, MediaSynapse):
        name = "synapse" if cls is MediaSynapse else "homeserver"
        if args.only and args.only != name:
            continue
        workdir = tempfile.mkdtemp(prefix=f"bench-media-{name}-")
        server = cls(args.database, workdir)
        try:
            print(f"starting {name} ({args.database}) on {server.base} ...", flush=True)
            server.start()
            results[name] = run(server, args.rounds)
            print(f"{name}: {results[name]}", flush=True)
        finally:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    if len(results) == 2:
        ours, theirs = results["homeserver"], results["synapse"]
        print(f"\n{'metric':<22} {'homeserver':>12} {'synapse':>12} {'ratio':>8}")
        for metric, value in ours.items():
            other = theirs[metric]
            ratio = value / other if metric.endswith("/s") else other / value
            print(f"{metric:<22} {value:>12.1f} {other:>12.1f} {ratio:>7.2f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
