"""One runner for the node's background work: every thread loop is a :class:`Job`.

A job is a *step* — a plain callable that does what is due now and returns — run over and
over on its own daemon thread. What the step returns says how long to wait before the next:

- ``None`` or :attr:`Next.IDLE`: nothing more to do; sleep ``every`` seconds, or until
  :meth:`Job.wake` (a send, a ``NOTIFY``) or the runner stops;
- :attr:`Next.AGAIN`: progress was made; step again at once (and forget past failures);
- :attr:`Next.BACK_OFF`: it failed; wait a capped, fully jittered exponential delay
  (:func:`backoff_delay`) that only stopping cuts short;
- :attr:`Next.DONE`: the job is over (a feed removed); its thread ends, the runner goes on.

A step that raises is logged and counts as a failure (backed off when the job has a
:class:`Backoff`, else an idle round): a crashing job never kills its thread. A
:class:`Runner` holds a group of jobs with one stop event: :meth:`Runner.stop` sets it,
wakes every job and joins every thread, so shutting down is prompt and leaves no thread.

The node keeps two runners (:mod:`hotline.node`): one for leadership, and one for the
active process's work — the scheduler, checkpoint exchange and a delivery worker per peer —
started when this process becomes the active one and stopped when it is not any more.
"""

from __future__ import annotations

import enum
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from hotline.errors import ConfigError

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 15.0  # how long stop() waits for one thread (a step in an HTTP request)


class Next(enum.Enum):
    """What a step asks for: see the module's docstring."""

    IDLE = "idle"
    AGAIN = "again"
    BACK_OFF = "back_off"
    DONE = "done"


def backoff_delay(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**failures)].

    >>> backoff_delay(50, 0.5, 30.0, random.Random(1)) <= 30.0
    True
    """
    return rng.uniform(0, min(cap, base * 2 ** min(failures, 30)))


@dataclass
class Backoff:
    """Consecutive failures of one job and the delay they call for (seconds)."""

    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)
    failures: int = 0

    def failed(self) -> float:
        self.failures += 1
        return backoff_delay(self.failures, self.base, self.cap, self.rng)


Step = Callable[[], "Next | None"]


class Job:
    """One step run over and over on its own thread; made by :meth:`Runner.add`."""

    def __init__(
        self,
        runner: Runner,
        name: str,
        step: Step,
        *,
        every: float,
        backoff: Backoff | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> None:
        if not 0 < every <= threading.TIMEOUT_MAX:  # NaN fails too: no wait could use it
            raise ConfigError(
                f"job {name}: every must be a positive number of seconds, not {every}"
            )
        self.runner = runner
        self.name = name
        self.step = step
        self.every = every
        self.backoff = backoff
        self.on_exit = on_exit
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def failures(self) -> int:
        return self.backoff.failures if self.backoff is not None else 0

    def wake(self) -> None:
        """Cut the current idle wait short (a backed-off wait runs on)."""
        self._wake.set()

    def _run(self) -> None:
        try:
            while True:
                self._wake.clear()  # before stepping, so a wake-up during the step is kept
                if self.runner.stopping.is_set():  # after: stop() sets it before waking
                    return
                next_ = self.run_step()
                if next_ is Next.DONE:
                    return
                try:
                    self.pause(next_)
                except Exception:  # a wait that cannot be made: never end the thread
                    logger.exception("job %s: could not wait; trying again in 1 s", self.name)
                    self.runner.stopping.wait(1.0)
        except BaseException:
            logger.critical("job %s stopped unexpectedly", self.name, exc_info=True)
            raise
        finally:
            if self.on_exit is not None:
                try:
                    self.on_exit()
                except Exception:
                    logger.exception("job %s: cleaning up failed", self.name)

    def run_step(self) -> Next:
        """One step; an exception is logged and counts as a failure."""
        try:
            return self.step() or Next.IDLE
        except Exception:  # a bug or a database outage: log, back off, go on
            logger.exception("job %s failed unexpectedly", self.name)
            return Next.BACK_OFF if self.backoff is not None else Next.IDLE

    def pause(self, next_: Next) -> float:
        """Wait as ``next_`` asks; return the longest it would wait (s)."""
        if next_ is Next.AGAIN:
            if self.backoff is not None:
                self.backoff.failures = 0
            return 0.0
        if next_ is Next.BACK_OFF and self.backoff is not None:
            delay = self.backoff.failed()
            self.runner.stopping.wait(delay)
            return delay
        self._wake.wait(self.every)
        return self.every


class Runner:
    """A group of jobs with one stop event: started together, stopped together."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.stopping = threading.Event()
        self.jobs: list[Job] = []
        self._lock = threading.Lock()
        self._started = False

    def add(
        self,
        name: str,
        step: Step,
        *,
        every: float,
        backoff: Backoff | None = None,
        on_exit: Callable[[], None] | None = None,
    ) -> Job:
        """Add a job; it starts at once if the runner runs (never once it is stopping)."""
        job = Job(self, name, step, every=every, backoff=backoff, on_exit=on_exit)
        with self._lock:
            self.jobs.append(job)
            if self._started and not self.stopping.is_set():
                job.thread.start()
        return job

    def start(self) -> None:
        with self._lock:
            self._started = True
            for job in self.jobs:
                if job.thread.ident is None and not self.stopping.is_set():
                    job.thread.start()

    def stop(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Stop every job and wait for its thread (each at most ``timeout`` seconds)."""
        with self._lock:
            self.stopping.set()
            jobs = list(self.jobs)
        for job in jobs:
            job.wake()
        current = threading.current_thread()
        for job in jobs:
            if job.thread.ident is not None and job.thread is not current:
                job.thread.join(timeout)
                if job.thread.is_alive():
                    logger.warning(
                        "%s: job %s did not stop within %ss", self.name, job.name, timeout
                    )

    @property
    def alive(self) -> list[str]:
        """Names of the jobs whose thread still runs."""
        return [job.name for job in self.jobs if job.thread.is_alive()]
