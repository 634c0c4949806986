"""The suite's own helpers (``hotline.testing``): waits that say what they waited for, cheap
password hashes that stay compatible with a node's, and test databases that no run leaves
behind, even a killed one, while runs going on at the same time keep theirs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher

from hotline.services import auth
from hotline.testing import PG_ADMIN_URL, DatabaseFactory, postgres_available, wait_for

PASSWORD = "correct horse battery"


def test_wait_for_returns_what_the_check_found() -> None:
    answers = iter([None, [], ["found"]])

    assert ["found"] == wait_for(lambda: next(answers), "the third answer", timeout=30, every=0)


def test_wait_for_says_what_it_waited_for_when_time_is_up() -> None:
    with pytest.raises(AssertionError, match="waiting for the moon"):
        wait_for(lambda: False, "the moon", timeout=0.05, every=0.01)


def test_the_tests_cheap_hashes_and_a_nodes_real_ones_verify_either_way() -> None:
    real = PasswordHasher()  # what a node uses (argon2-cffi's defaults)
    cheap = auth._hasher  # what tests/conftest.py put in place

    assert real.memory_cost > cheap.memory_cost
    assert cheap.verify(real.hash(PASSWORD), PASSWORD)
    assert real.verify(cheap.hash(PASSWORD), PASSWORD)


def test_a_node_outside_the_tests_hashes_with_the_real_parameters() -> None:
    code = "from hotline.services import auth; print(auth._hasher.memory_cost)"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    assert str(PasswordHasher().memory_cost) == shown.stdout.strip()


KILLED_RUN = """
import os, sys
from pathlib import Path
from hotline.testing import DatabaseFactory
factory = DatabaseFactory("postgresql", Path(sys.argv[1]))
factory.new("left")
print(factory.run_id, flush=True)
os.kill(os.getpid(), 9)
"""


def _test_databases(run_id: str) -> list[str]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"%{run_id}%",)
        )
        return sorted(str(r[0]) for r in rows)


@pytest.mark.skipif(not postgres_available(), reason="needs PostgreSQL at 127.0.0.1:5432")
def test_a_killed_runs_databases_go_at_the_next_run_and_a_live_runs_stay(tmp_path: Path) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    dead_id = killed.stdout.strip()
    assert 2 == len(_test_databases(dead_id)), killed.stderr  # its template and one copy
    live = DatabaseFactory("postgresql", tmp_path / "live")
    try:
        live.new("kept")
        later = DatabaseFactory("postgresql", tmp_path / "later")
        later.new("next")  # its first database starts the clean-up

        assert 2 == len(_test_databases(live.run_id))
        later.drop_all()  # waits for every drop it queued, the dead run's too
        assert [] == _test_databases(dead_id)
        assert 2 == len(_test_databases(live.run_id))
    finally:
        live.drop_all()
    assert [] == _test_databases(live.run_id)
