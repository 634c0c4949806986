"""The node-wide lock that makes one process the active one, and the wake-ups sent to it.

The lock is one the operating system or the database releases by itself when the holding
process dies (see :mod:`hotline.services.runtime.leader` for who uses it and why):

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept open
  for the purpose. The same connection ``LISTEN``\\ s on :data:`CHANNEL`; a standby that
  queues a message sends ``NOTIFY`` with the peer's party as payload.
- SQLite: an exclusive ``flock`` on ``DIR/hotline.lock``. There are no notifications.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from hotline.storage.db import Database

CHANNEL = "hotline_wake"


def lock_key(name: str) -> int:
    """A stable 32-bit advisory-lock key for the node ``name``."""
    return zlib.crc32(f"hotline-active:{name}".encode())


class ActiveLock:
    """One process's hold (or attempt to hold) the node's lock; not shared between threads."""

    def __init__(self, db: Database, directory: Path, party: str) -> None:
        self.db = db
        self.path = directory / "hotline.lock"
        self.key = lock_key(party)
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def listens(self) -> bool:
        """Whether wake-ups reach the holder (PostgreSQL only)."""
        return self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; never blocks."""
        if self.db.is_sqlite:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(
                conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
            )
            if got:
                conn.execute(text(f"LISTEN {CHANNEL}"))
        except Exception:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def wake_ups(self, timeout: float, most: int = 64) -> Iterator[str]:
        """The parties named by wake-ups, each as it arrives, for ``timeout`` seconds (at
        most ``most``); then checks the lock's session, raising if it is gone (and the lock
        with it)."""
        if self._conn is None:
            return
        raw: Any = self._conn.connection.driver_connection
        for note in raw.notifies(timeout=timeout, stop_after=most):
            yield str(note.payload)
        self._conn.execute(text("SELECT 1"))

    def release(self) -> None:
        """Let go of the lock (nothing happens if it is not held)."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def notify(db: Database, party: str) -> None:
    """Wake the holder of the lock for ``party``'s outbox (PostgreSQL; best effort)."""
    if db.is_sqlite:
        return
    with contextlib.suppress(Exception), db.engine.connect() as conn:
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": party})
        conn.commit()
