"""One active process per node: who runs the background work when several processes serve.

A node may run as several ``hotline serve`` processes on one database (behind a load
balancer, or a spare kept warm). Every process answers HTTP; only one at a time, the
*active* one, runs the background work: the delivery workers, the scheduler (link tests,
deadlines, calls) and checkpoint exchange. Two couriers on one channel would each record
the same receipt, and two schedulers would send two link tests.

The active process holds a lock the operating system or the database releases by itself
when the process dies, so a standby takes over within ``retry_s`` of a crash:

- PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) on a connection kept
  open for the purpose. The same connection ``LISTEN``\\ s on ``hotline_wake``: a standby
  that queues a message sends ``NOTIFY``, so the active process delivers it at once.
- SQLite: an exclusive ``flock`` on ``DIR/hotline.lock``. A message queued by a standby
  is found by the active process's next look at the outbox (within 5 s).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from hotline.storage.db import Database

logger = logging.getLogger(__name__)

CHANNEL = "hotline_wake"


def _lock_key(name: str) -> int:
    """A stable 32-bit advisory-lock key for this node's database."""
    return zlib.crc32(f"hotline-active:{name}".encode())


class Leadership(threading.Thread):
    """Tries to become the active process; runs ``on_gain`` then, ``on_lose`` if it ends."""

    def __init__(
        self,
        db: Database,
        directory: Path,
        party: str,
        *,
        on_gain: Callable[[], None],
        on_lose: Callable[[], None],
        on_wake: Callable[[str], None],
        retry_s: float = 2.0,
    ) -> None:
        super().__init__(name="leadership", daemon=True)
        self.db = db
        self.directory = directory
        self.key = _lock_key(party)
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.on_wake = on_wake
        self.retry_s = retry_s
        self.active = threading.Event()
        self.stopping = threading.Event()
        self._conn: Connection | None = None
        self._fd: int | None = None

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                if self._acquire():
                    self.active.set()
                    logger.info("this process is now the node's active process")
                    self.on_gain()
                    self._hold()
            except Exception:  # the database went away, say: retry, never die
                logger.exception("leadership: lost the lock or could not take it")
            finally:
                if self.active.is_set():
                    self.active.clear()
                    self.on_lose()
                self._release()
            self.stopping.wait(self.retry_s)

    def _acquire(self) -> bool:
        if self.db.is_sqlite:
            fd = os.open(self.directory / "hotline.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        if not got:
            conn.close()
            return False
        conn.execute(text(f"LISTEN {CHANNEL}"))
        self._conn = conn
        return True

    def _hold(self) -> None:
        """Keep the lock until stopped; pass on wake-ups; notice a dead connection."""
        while not self.stopping.is_set():
            if self._conn is None:
                self.stopping.wait(self.retry_s)
                continue
            raw: Any = self._conn.connection.driver_connection
            for note in raw.notifies(timeout=self.retry_s, stop_after=64):
                self.on_wake(str(note.payload))
            self._conn.execute(text("SELECT 1"))  # raises if the session is gone

    def _release(self) -> None:
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

    def stop(self) -> None:
        self.stopping.set()

    # -- from standbys ---------------------------------------------------------------------

    def notify(self, party: str) -> None:
        """Ask the active process (wherever it runs) to look at ``party``'s outbox now."""
        if self.db.is_sqlite:
            return  # the active process looks within 5 s anyway
        with contextlib.suppress(Exception), self.db.engine.connect() as conn:
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": party})
            conn.commit()
