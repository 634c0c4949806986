"""What a node's database layer does when its PostgreSQL server goes away: a multi-host
URL reaches whichever server answers, and a transaction whose server session dies fails
as ``DatabaseUnavailable`` (HTTP 503, retry) with nothing of it written, after which the
pool connects afresh. The whole drill, with a real standby promoted, is in
tests/drills/test_standby.py."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import OperationalError

from hotline.errors import Busy, DatabaseUnavailable
from hotline.storage import log
from hotline.storage.db import Database, multi_host_url, normalise_url
from hotline.storage.tables.core import log_entries
from hotline.testing import PG_ADMIN_URL, DatabaseFactory, free_port


@pytest.mark.parametrize(
    ("given", "wanted"),
    [
        (
            "postgresql://hotline@db1:5432,db2:5433/hotline?target_session_attrs=read-write",
            "postgresql+psycopg://hotline@/hotline?host=db1:5432&host=db2:5433"
            "&target_session_attrs=read-write",
        ),
        ("postgresql://u:p@a,b/d", "postgresql+psycopg://u:p@/d?host=a&host=b"),
        ("postgresql://db1:5432/hotline", "postgresql+psycopg://db1:5432/hotline"),
        ("sqlite:////var/lib/hotline/hotline.db", "sqlite:////var/lib/hotline/hotline.db"),
    ],
)
def test_a_multi_host_url_is_rewritten_for_sqlalchemy(given: str, wanted: str) -> None:
    assert normalise_url(given) == wanted
    assert multi_host_url(wanted) == wanted  # a rewritten one stays as it is


def test_libpq_is_given_every_host_in_order() -> None:
    db = Database("postgresql://hotline@db1:5432,db2:5433/hotline?target_session_attrs=read-write")
    try:
        _, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    finally:
        db.dispose()
    assert (kwargs["host"], kwargs["port"]) == ("db1,db2", "5432,5433")
    assert kwargs["target_session_attrs"] == "read-write"


def _postgres(databases: DatabaseFactory) -> str:
    if databases.backend != "postgresql":
        pytest.skip("PostgreSQL behaviour")
    return databases.new("failover")


def test_the_node_reaches_the_server_that_answers(databases: DatabaseFactory) -> None:
    url = _postgres(databases)
    server = url.split("//", 1)[1].split("/", 1)[0]  # 127.0.0.1:5432
    dead = f"127.0.0.1:{free_port()}"  # nobody listens there: the "old primary"
    db = Database(url.replace(server, f"{dead},{server}", 1) + "?target_session_attrs=read-write")
    try:
        with db.write() as conn:
            assert conn.execute(text("SELECT NOT pg_is_in_recovery()")).scalar()
    finally:
        db.dispose()
        databases.release(url)


def test_a_write_whose_server_session_dies_is_a_503_and_writes_nothing(
    databases: DatabaseFactory,
) -> None:
    url = _postgres(databases)
    db = Database(url)
    row = {"idx": 10**9, "kind": "test", "ref": "r", "entry": b"e", "leaf_hash": b"h" * 32}
    try:
        with pytest.raises(DatabaseUnavailable) as raised, db.write() as conn:
            conn.execute(insert(log_entries).values(**row, at="2026-01-01T00:00:00Z"))
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            # The server ends this session (as when it stops or crashes) mid-transaction.
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            conn.execute(select(1))
        assert raised.value.http_status == 503
        assert raised.value.headers() == {"Retry-After": "2"}
        # The pool let go of the dead connection: the next transaction works, and finds
        # nothing of the one that died.
        with db.read() as conn:
            found = conn.execute(
                select(func.count()).where(log_entries.c.idx == row["idx"])
            ).scalar()
        assert found == 0
    finally:
        db.dispose()
        databases.release(url)


def test_a_server_gone_inside_a_log_batch_is_still_a_503(databases: DatabaseFactory) -> None:
    """The standby drill answered a send 500 when the primary died inside ``log.batch``:
    the batch's bookkeeping read ``Connection.info`` of the dead connection, and
    SQLAlchemy's PendingRollbackError replaced the ``DatabaseUnavailable``."""
    url = _postgres(databases)
    db = Database(url)

    def work(conn: Any) -> None:
        with log.batch(conn):
            log.append(conn, "test", "r", b"entry", "2026-01-01T00:00:00Z")
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            conn.execute(select(1))

    try:
        with pytest.raises(DatabaseUnavailable):
            db.transaction(work)
        with db.read() as conn:
            assert 0 == conn.execute(select(func.count()).select_from(log_entries)).scalar()
    finally:
        db.dispose()
        databases.release(url)


def test_deadlocks_are_not_mistaken_for_a_dead_server(databases: DatabaseFactory) -> None:
    """40P01 is left to the retry (``Database.transaction``); what outlasts it is ``Busy``,
    not ``DatabaseUnavailable``: the server is there, the change simply was not made."""
    url = _postgres(databases)
    db = Database(url)
    try:
        with pytest.raises(Busy) as raised, db.write() as conn:
            conn.execute(
                text(
                    "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', "
                    "MESSAGE = 'deadlock detected'; END $$"
                )
            )
        assert not isinstance(raised.value, DatabaseUnavailable)
        cause = raised.value.__cause__
        assert isinstance(cause, OperationalError)
        assert getattr(cause.orig, "sqlstate", None) == "40P01"
    finally:
        db.dispose()
        databases.release(url)
