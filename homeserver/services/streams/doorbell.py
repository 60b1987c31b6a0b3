"""SQLite only: a nudge between the processes of one host that a write is about to commit.

Each stream listener (``services.streams.notifier``) binds a Unix datagram socket in a directory
that belongs to the database file; ``streams.next_position`` sends one byte to each socket there.
The nudge arrives before the write commits, so a listener that gets one reads the stream
counter every few milliseconds for a moment instead of waiting for its regular poll. Best
effort only: without it (no directory, another user's directory, a full socket buffer) the
regular poll still finds every write, a little later.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile

_sender: socket.socket | None = None


def _directory(database_path: str) -> str:
    # Short and fixed: Unix socket paths are limited to about 100 bytes.
    digest = hashlib.sha256(os.path.abspath(database_path).encode()).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"homeserver-bell-{os.getuid()}-{digest}")


class Bell:
    """The receiving end for one listener: ``fileno()`` for select, ``drain()`` after."""

    def __init__(self, database_path: str):
        directory = _directory(database_path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if os.stat(directory).st_uid != os.getuid():
            raise PermissionError(f"{directory} belongs to another user")
        self.path = os.path.join(directory, str(os.getpid()))
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.bind(self.path)
        self._socket.setblocking(False)

    def fileno(self) -> int:
        return self._socket.fileno()

    def drain(self) -> None:
        try:
            while self._socket.recv(64):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        try:
            self._socket.close()
            os.unlink(self.path)
        except OSError:
            pass


def ring(database_path: str) -> None:
    """Nudge every listener of this database on this host (called by the writer)."""
    global _sender
    directory = _directory(database_path)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    if _sender is None:
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        _sender = sender
    for name in names:
        path = os.path.join(directory, name)
        try:
            _sender.sendto(b"!", path)
        except (ConnectionRefusedError, FileNotFoundError):
            # Its process is gone.
            try:
                os.unlink(path)
            except OSError:
                pass
        except OSError:
            pass  # a full buffer: that listener has a nudge pending already
