"""The node's clockwork: one daemon thread that runs every periodic job.

Jobs are plain callables (``LinkTests.tick``, ``Deadlines.tick`` …) that do whatever is
due *now* by the node's clock and return. Keeping them free of sleeping makes each one
testable with a fake clock by calling it directly; this thread only calls them every
``tick_s`` seconds. A failing job is logged and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Scheduler(threading.Thread):
    def __init__(self, jobs: list[Callable[[], None]], tick_s: float) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.jobs = jobs
        self.tick_s = tick_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            for job in self.jobs:
                if self.stopping.is_set():
                    return
                try:
                    job()
                except Exception:
                    logger.exception("scheduled job %s failed", getattr(job, "__qualname__", job))
            self.stopping.wait(self.tick_s)

    def stop(self) -> None:
        self.stopping.set()
