"""Write transactions that the database gives up on are run again, and migrations take
turns (issue 14, item 2; the lock order is in ``hotline.storage.db``'s docstring).

The failures are real: a deadlock PostgreSQL detects between two connections, the
SQLSTATEs PostgreSQL raises for a deadlock and a serialization failure, and a SQLite
file another connection holds the write lock of.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from hotline.errors import Busy
from hotline.storage import db as db_module
from hotline.storage.db import ATTEMPTS, Connection, Database
from hotline.testing import DatabaseFactory
from tests.storage.test_migrations import _config

#: How long a thread of these tests may wait for the other (s): generous, never a sleep.
WAIT_S = 60


@pytest.fixture
def database(databases: DatabaseFactory) -> Iterator[Database]:
    url = databases.new("locks")
    db = Database(url)
    yield db
    db.dispose()
    databases.release(url)


def _postgresql_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("a PostgreSQL failure")


def _raise_sqlstate(conn: Connection, sqlstate: str) -> None:
    """Have PostgreSQL itself abort the statement with ``sqlstate``."""
    conn.execute(text(f"DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '{sqlstate}'; END $$"))


def _rows(db: Database) -> list[str]:
    with db.read() as conn:
        return [r[0] for r in conn.execute(text("SELECT what FROM lock_test ORDER BY what"))]


def _make_table(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("CREATE TABLE lock_test (what TEXT PRIMARY KEY)"))
        conn.execute(text("INSERT INTO lock_test VALUES ('a'), ('b')"))


def test_a_real_deadlock_is_run_again_and_commits(database: Database) -> None:
    """Two transactions lock rows a and b in opposite orders; PostgreSQL aborts the one
    from ``transaction()`` (the other waits 30 s before it looks for a deadlock), which
    runs again once the other has committed."""
    _postgresql_only(database)
    _make_table(database)
    url = database.url.replace("postgresql+psycopg://", "postgresql://")
    holds_b, other_done = threading.Event(), threading.Event()
    other_error: list[BaseException] = []

    def other() -> None:  # a connection of its own, outside the node's Database
        try:
            with psycopg.connect(url) as conn:
                conn.execute("SET deadlock_timeout = '30s'")  # so the victim is the other
                conn.execute("SELECT what FROM lock_test WHERE what = 'b' FOR UPDATE")
                holds_b.set()
                conn.execute("UPDATE lock_test SET what = 'a2' WHERE what = 'a'")
        except BaseException as exc:
            other_error.append(exc)
        finally:
            holds_b.set()
            other_done.set()

    attempts: list[int] = []

    def work(conn: Connection) -> str:
        attempts.append(len(attempts) + 1)
        conn.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
        conn.execute(text("SELECT what FROM lock_test WHERE what = 'a' FOR UPDATE"))
        if len(attempts) == 1:
            thread.start()
            assert holds_b.wait(WAIT_S)
        # the first time: waits for b, held by the other, which waits for a: a cycle
        conn.execute(text("UPDATE lock_test SET what = 'b2' WHERE what = 'b'"))
        return "done"

    thread = threading.Thread(target=other, daemon=True)
    assert "done" == database.transaction(work)
    assert other_done.wait(WAIT_S)
    thread.join(WAIT_S)
    assert [] == other_error
    assert [1, 2] == attempts  # the deadlock was met, and the work run once more
    assert ["a2", "b2"] == _rows(database)


@pytest.mark.parametrize("how", ["write", "transaction"])
def test_every_write_transaction_holds_the_log_lock_first(database: Database, how: str) -> None:
    """The first lock of the lock order: held from the start of a write transaction, before
    its work has touched anything, so another writer waits there holding nothing."""
    _postgresql_only(database)
    url = database.url.replace("postgresql+psycopg://", "postgresql://")
    with database.write():
        pass  # a new log has no row yet: the first write transaction makes it
    seen: list[str] = []

    def probe(_conn: Connection) -> None:
        with psycopg.connect(url) as other:
            try:
                other.execute("SELECT id FROM log_state WHERE id = 1 FOR UPDATE NOWAIT")
                seen.append("free")
            except psycopg.errors.LockNotAvailable:
                seen.append("held")

    if how == "write":
        with database.write() as conn:
            probe(conn)
    else:
        database.transaction(probe)
    with database.read() as conn:
        probe(conn)  # a reader takes no lock
    assert ["held", "free"] == seen


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_retried_until_it_passes(
    database: Database, sqlstate: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(database)
    _make_table(database)
    pauses: list[int] = []
    monkeypatch.setattr(db_module, "_pause", pauses.append)
    calls = 0

    def work(conn: Connection) -> int:
        nonlocal calls
        calls += 1
        conn.execute(text("INSERT INTO lock_test VALUES (:w)"), {"w": f"try{calls}"})
        if calls < 3:
            _raise_sqlstate(conn, sqlstate)
        return calls

    assert 3 == database.transaction(work)
    assert [1, 2] == pauses  # a pause after each failed attempt
    assert ["a", "b", "try3"] == _rows(database)  # the failed attempts left nothing


def test_a_failure_that_outlasts_the_retries_is_busy_and_changes_nothing(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgresql_only(database)
    _make_table(database)
    monkeypatch.setattr(db_module, "_pause", lambda _attempt: None)
    calls = 0

    def work(conn: Connection) -> None:
        nonlocal calls
        calls += 1
        conn.execute(text("INSERT INTO lock_test VALUES (:w)"), {"w": f"try{calls}"})
        _raise_sqlstate(conn, "40P01")

    with pytest.raises(Busy) as raised:
        database.transaction(work)
    assert (ATTEMPTS, 503, "busy") == (calls, raised.value.http_status, raised.value.code)
    assert "1" == raised.value.headers()["Retry-After"]
    assert ["a", "b"] == _rows(database)


def test_write_is_not_retried_but_a_deadlock_in_it_is_busy_not_a_500(
    database: Database,
) -> None:
    _postgresql_only(database)
    with pytest.raises(Busy), database.write() as conn:
        _raise_sqlstate(conn, "40P01")


def test_other_database_errors_are_not_retried(database: Database) -> None:
    _make_table(database)
    calls = 0

    def work(conn: Connection) -> None:
        nonlocal calls
        calls += 1
        conn.execute(text("INSERT INTO lock_test VALUES ('a')"))  # a duplicate key

    with pytest.raises(Exception, match=r"(?i)unique|duplicate") as raised:
        database.transaction(work)
    assert not isinstance(raised.value, Busy)
    assert 1 == calls


def _sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Database, Path]:
    monkeypatch.setattr(db_module, "SQLITE_BUSY_TIMEOUT_S", 0.05)  # busy at once, not in 30 s
    path = tmp_path / "busy.db"
    db = Database(f"sqlite:///{path}")
    _make_table(db)
    return db, path


def test_sqlite_busy_is_retried_once_the_other_writer_lets_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = _sqlite_database(tmp_path, monkeypatch)
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")
    pauses: list[int] = []

    def pause(attempt: int) -> None:  # the other writer commits while this one waits
        pauses.append(attempt)
        other.execute("COMMIT")

    monkeypatch.setattr(db_module, "_pause", pause)
    try:

        def work(conn: Connection) -> None:
            conn.execute(text("INSERT INTO lock_test VALUES ('c')"))

        db.transaction(work)
        assert [1] == pauses
        assert ["a", "b", "c"] == _rows(db)
    finally:
        other.close()
        db.dispose()


def test_sqlite_busy_that_outlasts_the_retries_is_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, path = _sqlite_database(tmp_path, monkeypatch)
    monkeypatch.setattr(db_module, "_pause", lambda _attempt: None)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Busy):
            db.transaction(lambda conn: conn.execute(text("INSERT INTO lock_test VALUES ('c')")))
        with pytest.raises(Busy), db.write() as conn:
            conn.execute(text("INSERT INTO lock_test VALUES ('d')"))
    finally:
        other.close()
    assert ["a", "b"] == _rows(db)
    db.dispose()


# -- migrations ------------------------------------------------------------------------------


@pytest.fixture
def empty_url(databases: DatabaseFactory, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, as a node's first start finds it."""
    if databases.backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    url = databases.new("fresh")
    with psycopg.connect(url, autocommit=True) as conn:  # the factory's copies are migrated
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    yield url
    databases.release(url)


#: A node process's start, reduced to its migration: ready once imported, then told to go.
MIGRATOR = """
import sys
from hotline.storage.db import Database
db = Database(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
db.migrate()
db.dispose()
print("migrated", flush=True)
"""


def test_processes_migrating_one_fresh_database_at_once_all_succeed(empty_url: str) -> None:
    """Four processes, each imported and connected first, then told to migrate at the
    same moment, as processes of a node started together: without the lock they create
    the same tables at once and fail; with it each waits, and the later ones find the
    schema new already."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATOR, empty_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    try:
        for proc in procs:  # blocks until each has said it is ready (or has died)
            assert proc.stdout is not None
            assert "ready" == proc.stdout.readline().strip(), proc.stderr
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outcomes = [proc.communicate(timeout=WAIT_S * 2) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [(0, "migrated")] * len(procs) == [
        (proc.returncode, out.strip()) for proc, (out, _err) in zip(procs, outcomes, strict=True)
    ], [err[-2000:] for _out, err in outcomes]
    db = Database(empty_url)
    try:
        with db.engine.connect() as conn:
            heads = set(MigrationContext.configure(conn).get_current_heads())
        assert set(ScriptDirectory.from_config(_config()).get_heads()) == heads
    finally:
        db.dispose()
