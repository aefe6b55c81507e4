"""The ingest lock: one writer per collection at a time.

Always an exclusive ``flock`` in the index folder. With a Chroma server (``chroma_mode: server``)
several machines write one collection, so the lock is also taken in the server
(``assistant.core.store.SharedState``): ``Manifest.for_settings`` registers it here for the
collection, and every ``IngestLock`` on that collection takes it too, renewing it while it runs.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from assistant.core.store import LOCK_TTL_S, SharedState

log = logging.getLogger(__name__)

# (index folder, collection) -> the shared state of a collection served by a Chroma server
_SHARED: dict[tuple[str, str], SharedState] = {}


class IngestLockedError(RuntimeError):
    pass


def register_shared(index_dir: Path, collection: str, shared: SharedState) -> None:
    """Make every ``IngestLock`` on this collection also take the server-side lock."""
    _SHARED[(str(index_dir.resolve()), collection)] = shared


def _busy(holder: str) -> IngestLockedError:
    return IngestLockedError(
        f"another ingest is already running on this index ({holder}); wait for it to finish or re-run with --wait"
    )


class IngestLock:
    """An exclusive lock per collection so two ingest runs never interleave writes."""

    def __init__(self, index_dir: Path, collection: str, wait: bool = False, ttl: float = LOCK_TTL_S):
        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / f"ingest-{collection}.lock"
        self.wait = wait
        self.fd: int | None = None
        self.shared = _SHARED.get((str(index_dir.resolve()), collection))
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> "IngestLock":
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(self.fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(self.fd)
            self.fd = None
            raise _busy(f"pid {holder}") from None
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)
        if self.shared is not None:
            try:
                self._take_shared()
            except BaseException:
                self._release_local()
                raise
        return self

    def _take_shared(self) -> None:
        assert self.shared is not None
        while (held := self.shared.try_lock(self.owner, self.ttl)) is not None:
            if not self.wait:
                until = time.strftime("%H:%M:%S", time.localtime(float(held.get("expires", 0))))
                raise _busy(f"held in the Chroma server by {held.get('owner', 'unknown')} until {until} unless renewed")
            time.sleep(1.0)
        self._renewer = threading.Thread(target=self._renew, name="ingest-lock-renewal", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        """Keep the server-side lock alive while the ingest runs (a dead holder stops renewing)."""
        assert self.shared is not None
        while not self._stop.wait(self.ttl / 3):
            if not self.shared.renew(self.owner, self.ttl):
                log.warning("the ingest lock in the Chroma server was lost (expired or removed)")

    def _release_local(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __exit__(self, *exc: object) -> None:
        if self._renewer is not None:
            self._stop.set()
            self._renewer.join(timeout=5)
            self._renewer = None
            try:
                self.shared.unlock(self.owner)  # type: ignore[union-attr]
            except Exception as err:  # an unreachable server: the lock expires on its own
                log.warning("could not release the ingest lock in the Chroma server: %s", err)
        self._release_local()
