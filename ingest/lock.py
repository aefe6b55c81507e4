"""The ingest lock: one writer per collection at a time (an exclusive ``flock`` in the index folder)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class IngestLockedError(RuntimeError):
    pass


class IngestLock:
    """An exclusive lock per collection so two ingest runs never interleave writes."""

    def __init__(self, index_dir: Path, collection: str, wait: bool = False):
        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / f"ingest-{collection}.lock"
        self.wait = wait
        self.fd: int | None = None

    def __enter__(self) -> "IngestLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            self.fd = None
            raise IngestLockedError(
                f"another ingest is already running on this index (pid {holder}); "
                "wait for it to finish or re-run with --wait"
            ) from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
