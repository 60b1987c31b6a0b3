"""The JavaScript packages of an e2e test directory (``package-lock.json``), installed once."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess

import pytest


def npm_installed(js_dir: str, package: str = "matrix-js-sdk") -> str:
    """``js_dir`` after ``npm ci`` (once, even with parallel test workers); skips the test
    when node or npm is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the matrix-js-sdk test")
    with open(os.path.join(js_dir, ".install.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(js_dir, "node_modules", package)):
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=js_dir, check=True, timeout=600)
    return js_dir
