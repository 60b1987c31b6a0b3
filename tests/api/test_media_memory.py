"""A 100 MB upload and download stream through the worker: its memory barely grows.

Measured with tracemalloc (peak of Python allocations during the request) and with the
process's resident set size; no wall-clock limits.
"""

import hashlib
import os
import tracemalloc

from helpers.media import DOWNLOAD, UPLOAD

SIZE = 100 * 1000 * 1000
MiB = 1024 * 1024


def rss_bytes():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_100mb_upload_and_download_keep_memory_small(client, register_user, tmp_path):
    alice = register_user("alice")
    source = tmp_path / "big.bin"
    expected = hashlib.sha256()
    with open(source, "wb") as handle:
        for _ in range(SIZE // MiB):
            block = os.urandom(MiB)
            expected.update(block)
            handle.write(block)
        tail = os.urandom(SIZE % MiB)
        expected.update(tail)
        handle.write(tail)

    rss_before = rss_bytes()
    tracemalloc.start()
    try:
        with open(source, "rb") as body:
            tracemalloc.reset_peak()
            start, _ = tracemalloc.get_traced_memory()
            # input_stream, not data=: the test client would read data= into memory itself.
            response = alice.post(UPLOAD, input_stream=body,
                                  headers={"Content-Type": "application/octet-stream"})
            upload_peak = tracemalloc.get_traced_memory()[1] - start
        assert response.status_code == 200, response.get_json()
        ref = response.get_json()["content_uri"][len("mxc://"):]

        tracemalloc.reset_peak()
        start, _ = tracemalloc.get_traced_memory()
        response = alice.get(f"{DOWNLOAD}/{ref}", buffered=False)
        assert response.status_code == 200
        received = hashlib.sha256()
        length = 0
        for chunk in response.response:
            received.update(chunk)
            length += len(chunk)
        response.close()
        download_peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    rss_growth = rss_bytes() - rss_before

    assert length == SIZE
    assert received.hexdigest() == expected.hexdigest()
    assert int(response.headers["Content-Length"]) == SIZE
    print(f"upload peak {upload_peak / MiB:.2f} MiB, download peak {download_peak / MiB:.2f} MiB, "
          f"RSS growth {rss_growth / MiB:.1f} MiB")
    assert upload_peak < 4 * MiB
    assert download_peak < 4 * MiB
    assert rss_growth < 40 * MiB
