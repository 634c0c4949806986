"""The one runner of background jobs: a wake-up cuts an idle wait short, a crashing step
never kills its thread, failures back off with full jitter, and stopping is prompt and
leaves no thread running."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from hotline.errors import ConfigError
from hotline.services.runtime.jobs import Backoff, Next, Runner
from hotline.testing import wait_for
from tests.conftest import MakeNode

DEADLINE_S = 10.0  # generous: the machine may be busy; a passing run takes milliseconds


@pytest.fixture
def runner() -> Iterator[Runner]:
    made = Runner("test")
    yield made
    made.stop()
    assert [] == made.alive


class Counter:
    """A step that counts its calls and lets the test wait for the n-th."""

    def __init__(self, answer: Callable[[int], Next | None] = lambda n: None) -> None:
        self.calls = 0
        self.answer = answer
        self.changed = threading.Condition()

    def __call__(self) -> Next | None:
        with self.changed:
            self.calls += 1
            self.changed.notify_all()
            n = self.calls
        return self.answer(n)

    def wait_for(self, calls: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.calls >= calls, DEADLINE_S)


def test_an_idle_job_runs_again_when_woken_not_before(runner: Runner) -> None:
    step = Counter()
    job = runner.add("idle", step, every=3600)
    runner.start()
    assert step.wait_for(1)

    job.wake()

    assert step.wait_for(2)
    assert 2 == step.calls


def test_an_idle_job_runs_again_after_its_interval(runner: Runner) -> None:
    step = Counter()
    runner.add("ticking", step, every=0.01)
    runner.start()
    assert step.wait_for(5)


def test_a_job_that_made_progress_goes_on_at_once(runner: Runner) -> None:
    step = Counter(lambda n: Next.AGAIN if n < 5 else None)
    runner.add("busy", step, every=3600)
    runner.start()
    assert step.wait_for(5)


def test_a_crashing_step_is_logged_and_the_thread_goes_on(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(n: int) -> Next | None:
        if n == 1:
            raise RuntimeError("a bug")
        return None

    step = Counter(boom)
    job = runner.add("crashing", step, every=3600)
    runner.start()
    assert step.wait_for(1)
    job.wake()

    assert step.wait_for(2)
    assert job.thread.is_alive()
    assert any("job crashing failed" in r.getMessage() for r in caplog.records)


def test_a_wait_that_cannot_be_made_is_logged_and_the_thread_goes_on(
    runner: Runner, caplog: pytest.LogCaptureFixture
) -> None:
    step = Counter()
    job = runner.add("unwaitable", step, every=3600)
    real_pause = job.pause
    calls = {"n": 0}

    def pause(next_: Next) -> float:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OverflowError("timeout value is too large")
        return real_pause(next_)

    job.pause = pause  # type: ignore[method-assign]
    runner.start()

    assert step.wait_for(2)  # stepped again after the failed wait (1 s later)
    assert job.thread.is_alive()
    assert any("could not wait" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("every", [0, -1, float("inf"), float("nan")])
def test_an_interval_no_wait_can_use_is_refused(every: float) -> None:
    with pytest.raises(ConfigError) as caught:
        Runner("test").add("bad", Counter(), every=every)
    assert "config" == caught.value.code


def test_failures_back_off_with_full_jitter_and_progress_resets_them() -> None:
    runner = Runner("test")
    backoff = Backoff(0.5, 8.0, random.Random(7))
    job = runner.add("failing", lambda: Next.BACK_OFF, every=3600, backoff=backoff)
    runner.stop()  # never started: each wait returns at once

    delays = [job.pause(job.run_step()) for _ in range(10)]

    twin = random.Random(7)
    assert [twin.uniform(0, min(8.0, 0.5 * 2**n)) for n in range(1, 11)] == delays
    assert 10 == job.failures
    assert 0.0 == job.pause(Next.AGAIN)
    assert 0 == job.failures


def test_a_step_that_raises_counts_as_a_failure_when_the_job_backs_off() -> None:
    runner = Runner("test")

    def broken() -> Next | None:
        raise RuntimeError("the database went away")

    job = runner.add("broken", broken, every=3600, backoff=Backoff(0.5, 8.0))
    assert Next.BACK_OFF == job.run_step()


def test_stopping_is_prompt_even_in_a_long_wait_and_leaves_no_thread() -> None:
    runner = Runner("test")
    idle, failing = Counter(), Counter(lambda n: Next.BACK_OFF)
    exited = threading.Event()
    runner.add("idle", idle, every=3600, on_exit=exited.set)
    runner.add("failing", failing, every=3600, backoff=Backoff(3600.0, 3600.0, _Highest()))
    runner.start()
    assert idle.wait_for(1) and failing.wait_for(1)

    started = time.monotonic()
    runner.stop(timeout=DEADLINE_S)

    assert [] == runner.alive
    assert time.monotonic() - started < DEADLINE_S  # not the hour either job was waiting
    assert exited.is_set()


def test_a_job_added_to_a_running_runner_starts_and_none_after_it_stopped(
    runner: Runner,
) -> None:
    runner.start()
    step = Counter()
    runner.add("late", step, every=3600)
    assert step.wait_for(1)

    runner.stop()
    after = runner.add("too late", Counter(), every=3600)
    assert after.thread.ident is None


def test_a_node_runs_its_background_work_as_jobs_and_stops_every_thread(
    make_node: MakeNode,
) -> None:
    us, ru = make_node("us"), make_node("ru")
    us.add_peer(ru.identity.card().wire())
    names = {"leadership", "scheduler", "checkpoints", "delivery-ru"}

    us.start()
    # the jobs start once the lock is taken
    wait_for(
        lambda: names <= {t.name for t in threading.enumerate()},
        "the active process's jobs",
        timeout=DEADLINE_S,
    )
    assert us.active
    assert names <= {t.name for t in threading.enumerate()}
    started = time.monotonic()
    us.stop()

    assert time.monotonic() - started < DEADLINE_S
    assert set() == names & {t.name for t in threading.enumerate() if t.is_alive()}


def test_a_node_started_twice_runs_one_leadership_thread(make_node: MakeNode) -> None:
    """An app serving a node a test (or a second listener) already started starts nothing
    more: a second Leadership would outlive ``stop()`` and hold the node's lock."""
    us = make_node("us")
    us.start()
    first = us.leadership
    us.start()
    try:
        assert first is us.leadership
        alive = [t for t in threading.enumerate() if t.name == "leadership" and t.is_alive()]
        assert 1 == len(alive)
    finally:
        us.stop()
    assert [] == [t for t in threading.enumerate() if t.name == "leadership" and t.is_alive()]


class _Highest(random.Random):
    """Always draws the top of the range: the longest wait the backoff allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_job_that_is_done_ends_its_thread_and_the_others_go_on() -> None:
    runner = Runner("test")
    steps = {"done": 0, "other": 0}

    def done() -> Next:
        steps["done"] += 1
        return Next.DONE

    def other() -> Next:
        steps["other"] += 1
        return Next.IDLE

    finished = runner.add("done", done, every=0.01)
    runner.add("other", other, every=0.01)
    runner.start()
    try:
        wait_for(lambda: not finished.thread.is_alive(), "the done job's thread", timeout=60)
        count = steps["other"]
        wait_for(lambda: steps["other"] > count + 2, "the other job stepping", timeout=60)
        assert (1, ["other"]) == (steps["done"], runner.alive)
    finally:
        runner.stop()
