"""Leadership between processes of one node: one holder at a time, wake-ups reach it, and
the lock passes on when the holder lets go (as it does when its process dies)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.services.runtime.leader import Leadership
from hotline.storage.db import Database
from hotline.testing import DatabaseFactory, wait_for


class Candidate:
    """One would-be active process: its leadership thread and what it was told."""

    def __init__(self, db: Database, directory: Path) -> None:
        self.gained = threading.Event()
        self.lost = threading.Event()
        self.woken: list[str] = []
        self.leadership = Leadership(
            db,
            directory,
            "us",
            on_gain=self.gained.set,
            on_lose=self.lost.set,
            on_wake=self.woken.append,
            retry_s=0.2,
        )


@pytest.fixture
def two(databases: DatabaseFactory, tmp_path: Path) -> Iterator[tuple[Candidate, Candidate]]:
    url = databases.new("us")
    dbs = [Database(url), Database(url)]
    made = [Candidate(db, tmp_path) for db in dbs]
    yield made[0], made[1]
    for c in made:
        c.leadership.stop()
        assert [] == c.leadership.runner.alive
    for db in dbs:
        db.dispose()


def test_one_holder_at_a_time_and_the_lock_passes_on(two: tuple[Candidate, Candidate]) -> None:
    first, second = two
    first.leadership.start()
    assert first.gained.wait(5)
    second.leadership.start()
    time.sleep(0.6)  # three of its tries
    assert not second.gained.is_set()

    first.leadership.stop()

    assert first.lost.is_set()
    assert second.gained.wait(5)


def test_a_standby_wakes_the_active_process(two: tuple[Candidate, Candidate]) -> None:
    first, second = two
    if first.leadership.db.is_sqlite:
        pytest.skip("SQLite has no notifications: the active process polls its outbox")
    first.leadership.start()
    assert first.gained.wait(5)

    second.leadership.notify("ru")

    wait_for(lambda: first.woken == ["ru"], "the wake-up at the holder", timeout=30)
