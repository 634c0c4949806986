"""The node's clockwork: one job on the active process's runner runs every periodic tick.

Ticks are plain callables (``LinkTests.tick``, ``Deadlines.tick`` …) that do whatever is
due *now* by the node's clock and return. Keeping them free of sleeping makes each one
testable with a fake clock by calling it directly; the scheduler only calls them, one
after the other, every ``tick_s`` seconds (:meth:`Scheduler.add_to`). A failing tick is
logged and does not stop the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hotline.services.runtime.jobs import Job, Runner

logger = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, ticks: list[Callable[[], None]], tick_s: float) -> None:
        self.ticks = ticks
        self.tick_s = tick_s
        self._stopping: threading.Event | None = None

    def add_to(self, runner: Runner) -> Job:
        """Run the ticks as one job of ``runner``, every ``tick_s`` seconds."""
        self._stopping = runner.stopping
        return runner.add("scheduler", self.run_due, every=self.tick_s)

    def run_due(self) -> None:
        """Call every tick once, unless the runner stops meanwhile."""
        for tick in self.ticks:
            if self._stopping is not None and self._stopping.is_set():
                return
            try:
                tick()
            except Exception:
                logger.exception("scheduled job %s failed", getattr(tick, "__qualname__", tick))
