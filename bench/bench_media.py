"""Media benchmark, this homeserver side by side with Synapse: upload and download throughput
of a 10 MB file and thumbnail latency for a 2000x2000 PNG.

    python bench/bench_media.py [--database sqlite|postgresql] [--rounds 10]

Uses the servers of bench/bench.py (Synapse from .bench-venv, made by `make bench`); Synapse
gets its media resource and an upload limit large enough through one extra config file.
Both servers run at once and every step alternates between them, round by round, so the
machine's other load weighs on both alike. Every 10 MB upload is fresh random bytes (no
deduplication helps either server). Thumbnails: "cold"
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


class Client:
    """One registered user on one server, with the timings gathered for it."""

    def __init__(self, server: bench.Server):
        self.base = server.base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {register(server.base)}"
        self.times: dict[str, list[float]] = {}

    def record(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)

    def upload(self, data: bytes, content_type: str) -> str:
        response = self.session.post(self.base + "/_matrix/media/v3/upload", data=data,
                                     headers={"Content-Type": content_type}, timeout=300)
        response.raise_for_status()
        return response.json()["content_uri"][len("mxc://"):]

    def get(self, path: str) -> bytes:
        response = self.session.get(self.base + path, timeout=300)
        assert response.status_code == 200, response.text[:200]
        return response.content


def run(servers: dict[str, bench.Server], rounds: int) -> dict:
    """The same steps on every server, interleaved round by round so that the load of the
    machine (shared with other work) weighs on both alike."""
    clients = {name: Client(server) for name, server in servers.items()}
    for client in clients.values():
        client.upload(os.urandom(1000), "application/octet-stream")  # warm-up
    for _ in range(rounds):
        data = os.urandom(FILE_SIZE)
        for client in clients.values():
            start = time.perf_counter()
            ref = client.upload(data + os.urandom(16), "application/octet-stream")
            client.record("upload", time.perf_counter() - start)
            start = time.perf_counter()
            body = client.get(f"/_matrix/client/v1/media/download/{ref}")
            client.record("download", time.perf_counter() - start)
            assert len(body) == FILE_SIZE + 16
    for n in range(max(3, rounds // 2)):
        png = png_2000(n)
        for client in clients.values():
            start = time.perf_counter()
            ref = client.upload(png, "image/png")
            uploaded = time.perf_counter()
            path = (f"/_matrix/client/v1/media/thumbnail/{ref}"
                    "?width=320&height=240&method=scale")
            client.get(path)
            done = time.perf_counter()
            client.record("cold", done - uploaded)
            client.record("upload+thumb", done - start)
            start = time.perf_counter()
            client.get(path)
            client.record("warm", time.perf_counter() - start)
    results = {}
    for name, client in clients.items():
        times = client.times
        results[name] = {
            "upload MB/s": (FILE_SIZE + 16) * len(times["upload"]) / MB / sum(times["upload"]),
            "download MB/s": (FILE_SIZE + 16) * len(times["download"]) / MB
            / sum(times["download"]),
            "thumb cold p50 ms": median_ms(times["cold"]),
            "thumb warm p50 ms": median_ms(times["warm"]),
            "upload+thumb p50 ms": median_ms(times["upload+thumb"]),
        }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--only", choices=["homeserver", "synapse"], default=None)
    args = parser.parse_args()
    servers: dict[str, bench.Server] = {}
    workdirs = []
    try:
        for name, cls in (("homeserver", bench.Ours), ("synapse", MediaSynapse)):
            if args.only and args.only != name:
                continue
            workdir = tempfile.mkdtemp(prefix=f"bench-media-{name}-")
            workdirs.append(workdir)
            server = servers[name] = cls(args.database, workdir)
            print(f"starting {name} ({args.database}) on {server.base} ...", flush=True)
            server.start()
        results = run(servers, args.rounds)
        for name, figures in results.items():
            print(f"{name}: {figures}", flush=True)
    finally:
        for server in servers.values():
            server.stop()
        for workdir in workdirs:
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
