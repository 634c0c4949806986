"""One active process per node: who runs the background work when several processes serve.

A node may run as several ``hotline serve`` processes on one database (behind a load
balancer, or a spare kept warm). Every process answers HTTP; only one at a time, the
*active* one, runs the background work: the delivery workers, the scheduler (link tests,
deadlines, calls) and checkpoint exchange. Two couriers on one channel would each record
the same receipt, and two schedulers would send two link tests.

The active process holds a lock the operating system or the database releases by itself
when the process dies (:class:`hotline.storage.leader.ActiveLock`), so a standby takes over
within ``retry_s`` of a crash. On PostgreSQL a standby that queues a message sends a
wake-up the active process receives at once; on SQLite the active process's next look at
the outbox (within 5 s) finds it.

Trying for the lock is one job on its own :class:`~hotline.services.runtime.jobs.Runner`:
each step takes the lock if it can, holds it (passing wake-ups on) until stopped or until
the lock is lost, and lets go; the next try comes ``retry_s`` later.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from hotline.services.runtime.jobs import Runner
from hotline.storage import leader as store
from hotline.storage.db import Database

logger = logging.getLogger(__name__)


class Leadership:
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
        self.db = db
        self.on_gain = on_gain
        self.on_lose = on_lose
        self.on_wake = on_wake
        self.retry_s = retry_s
        self.active = threading.Event()
        self.runner = Runner("leadership")
        self._lock = store.ActiveLock(db, directory, party)
        self.runner.add("leadership", self.attempt, every=retry_s)

    def start(self) -> None:
        self.runner.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let go of the lock and wait for the thread (its last act is ``on_lose``)."""
        self.runner.stopping.set()
        if self.active.is_set():
            # The holder waits for wake-ups up to retry_s at a time: an empty one ends
            # that wait now, so a stopping process lets go at once, not within 2 s.
            store.notify(self.db, "")
        self.runner.stop(timeout)

    def attempt(self) -> None:
        """Take the lock if free, hold it until stopped or lost, then let go."""
        try:
            if self._lock.acquire():
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
            self._lock.release()

    def _hold(self) -> None:
        """Keep the lock until stopped; pass on wake-ups; notice a dead connection."""
        stopping = self.runner.stopping
        while not stopping.is_set():
            if not self._lock.listens:
                stopping.wait(self.retry_s)
                continue
            for party in self._lock.wake_ups(self.retry_s):
                if stopping.is_set():
                    break
                if party:  # an empty wake-up only ends the wait (see stop)
                    self.on_wake(party)

    # -- from standbys ---------------------------------------------------------------------

    def notify(self, party: str) -> None:
        """Ask the active process (wherever it runs) to look at ``party``'s outbox now."""
        store.notify(self.db, party)
