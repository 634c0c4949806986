"""The one seam between SQLite and PostgreSQL.

``Database.write()`` opens a write transaction and ``Database.read()`` a read-only one,
each a :class:`Connection` that services pass to the storage functions; services never see
which engine is underneath. ``Database.transaction(work)`` runs ``work(conn)`` in a write
transaction and runs it again, from the start, when the database gave up on it for a
reason that passes (a deadlock, a serialization failure, SQLite busy): the hot paths of
the line use it. A ``with`` block cannot be run twice, so ``write()`` does not retry; both
turn a transient failure that outlasts them into :class:`~hotline.errors.Busy` (HTTP
503, "try again"), never a 500.

- SQLite (the default): WAL, ``synchronous=FULL`` so an acknowledged write survives a
  power cut, one writer at a time: writes take ``BEGIN IMMEDIATE`` (the file lock) and,
  inside this process, a mutex, so threads queue instead of spinning on SQLITE_BUSY.
- PostgreSQL (``HOTLINE_DATABASE_URL=postgresql://…``): several node processes may share
  one database. Every write transaction first locks the Merkle log's one row
  (``log.lock``: ``log_state``, ``SELECT … FOR UPDATE``), so writers run one at a time,
  as on SQLite: nearly every write of the line appends to the log, and a lock taken
  first by all of them can form no cycle, whatever each takes after it.

The lock order, for every write transaction on PostgreSQL (a transaction takes only the
locks it needs, but never one listed above a lock it already holds):

1. ``log_state`` (taken by ``write()`` / ``transaction()`` themselves, before the work);
2. ``peers`` rows (``FOR SHARE`` to check a pinned key; ``FOR UPDATE`` to co-sign);
3. ``channels`` rows: the outbound and inbound chain heads (``lock_channel``);
4. ``messages`` rows (``UPDATE``) and the rows of the capabilities (calls, held, ...).

Since the first lock already makes writers take turns, the rest of the order only
matters to a transaction that does not go through ``write()`` (there is none but the
migrations, which take their own advisory lock first) — it is written down so that it
stays true if the first lock is ever made finer. Before this order, the line deadlocked
under ordinary load (issue 14): sending took its channel then ``log_state``; receiving a
link test its inbound channel, ``log_state``, then the outbound channel; recording a
receipt and receiving an ack took the message row and ``log_state`` in opposite orders.

``migrate()`` takes a PostgreSQL advisory lock (``pg_advisory_xact_lock``) before it looks
at the schema, so two processes of a node starting together migrate one after the other
(the second finds nothing to do); on SQLite its ``BEGIN IMMEDIATE`` does the same.

The URL may name a primary and its standby (libpq's ``H1:P1,H2:P2`` with
``target_session_attrs=read-write``); while the server is gone a request fails as
``DatabaseUnavailable`` (503, retry), and the pool reconnects to whichever server is then
the primary.

A SQLite database file holds messages, password hashes and token hashes: it is created
mode 0600 (whatever the umask), an existing one open to group or others stops the node
(``UnsafePermissions``, with the ``chmod 600`` that fixes it), and its side files
(``-wal``, ``-shm``, ``-journal``) are made 0600 when the database is opened.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from hotline.errors import Busy, ConfigError, DatabaseUnavailable, ValidationError
from hotline.protocol.keys import check_private
from hotline.storage import log

# ``Connection`` is the transaction every storage function takes; modules outside storage/
# import it from here, never from SQLAlchemy (no SQL outside storage/: see pyproject.toml's
# import-linter contracts).
__all__ = ["MIGRATIONS", "Connection", "Database", "after_commit", "normalise_url"]

MIGRATIONS = Path(__file__).parent / "migrations"

#: The files SQLite keeps beside a database (write-ahead log, its index, rollback journal).
SIDE_FILES = ("-wal", "-shm", "-journal")

#: How many times ``Database.transaction`` runs its work before it gives up with ``Busy``.
ATTEMPTS = 6
#: Backoff between attempts (s): the n-th wait is drawn evenly from [0, min(cap, base·2ⁿ)]
#: ("full jitter"), so transactions that collided once do not collide again in step.
BACKOFF_BASE_S = 0.02
BACKOFF_CAP_S = 1.0
#: PostgreSQL's SQLSTATEs for a transaction it aborted and that may simply be run again:
#: serialization_failure and deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
#: How long a SQLite writer waits for another process's write lock before SQLITE_BUSY (s).
SQLITE_BUSY_TIMEOUT_S = 30.0
#: The key of the advisory lock ``migrate()`` holds ("hotline" in ASCII, as a bigint).
MIGRATION_LOCK = 0x686F746C696E65

T = TypeVar("T")
_log = logging.getLogger(__name__)


#: What :func:`after_commit` registered, per write transaction's connection (a connection
#: object lives for one transaction: ``Engine.begin`` makes a new one each time).
_AFTER_COMMIT: weakref.WeakKeyDictionary[Connection, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)


def after_commit(conn: Connection, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the write transaction of ``conn`` has committed; never if it
    is rolled back (a refusal, a retried attempt of ``Database.transaction``). For what a
    transaction changes outside the database (an in-memory picture, say), which must not
    hold what was never committed, nor be done once per attempt. (A savepoint rolled back
    inside the transaction does not take back a callback registered in it: register
    last, once nothing can refuse.)"""
    callbacks = _AFTER_COMMIT.get(conn)
    if callbacks is None:
        raise RuntimeError("after_commit needs a write transaction (Database.write/transaction)")
    callbacks.append(callback)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy's default is psycopg2), and
    accept libpq's multi-host form (see :func:`multi_host_url`)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return multi_host_url("postgresql+psycopg://" + url[len(prefix) :])
    return multi_host_url(url) if url.startswith("postgresql+psycopg://") else url


def multi_host_url(url: str) -> str:
    """Rewrite libpq's multi-host URL, ``…://USER@H1:P1,H2:P2/DB?…``, in the form SQLAlchemy
    parses, ``…://USER@/DB?host=H1:P1&host=H2:P2&…`` (psycopg hands both to libpq).

    Why: the production setup names the primary and its standby in one URL with
    ``target_session_attrs=read-write``, so that after a promotion the node's new
    connections find the new primary by themselves. SQLAlchemy's own parser reads the
    comma as part of the port and fails. A URL with one host is returned unchanged.
    """
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    if not sep or "," not in hosts:
        return url
    path, _, query = tail.partition("?")
    pairs = "&".join(f"host={host}" for host in hosts.split(",") if host)
    joined = f"{pairs}&{query}" if query else pairs
    return f"{scheme}://{userinfo}{at}{slash or '/'}{path}?{joined}"


class Database:
    """A node's database: a writer and a reader engine over one URL."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            path = sqlite_path(self.url)
            if path is not None:
                make_private(path)
            self._writer = _sqlite_engine(self.url, "BEGIN IMMEDIATE")
            self._reader = _sqlite_engine(self.url, "BEGIN")
        elif self.url.startswith("postgresql"):
            self._writer = create_engine(self.url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self._reader = self._writer
            event.listen(self._writer, "handle_error", _refuse_nul)
            event.listen(self._writer, "handle_error", _database_unavailable)
        else:
            raise ConfigError(
                f"unsupported database URL {url!r}",
                hint="use sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
            )
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @property
    def engine(self) -> Engine:
        return self._writer

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may write; committed when the block ends without error.

        Not retried (a ``with`` block runs once): a deadlock or a busy database comes out
        as :class:`Busy`. Hot paths use :meth:`transaction`, which retries.
        """
        try:
            with self._begin() as conn:
                yield conn
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            raise _busy(exc, 1) from exc

    @contextmanager
    def append(self) -> Iterator[Connection]:
        """A write transaction for an append-only record that no other transaction locks
        or reads for update (the recorded picture): on PostgreSQL it takes no lock of the
        order above, so thousands of rows a second never queue behind the line (nor the
        line behind them); on SQLite it is a write like any other (one writer at a time).
        Not retried, like :meth:`write`.
        """
        if self._write_lock is not None:
            with self.write() as conn:
                yield conn
            return
        try:
            with self._writer.begin() as conn:
                yield conn
        except DBAPIError as exc:
            if not is_transient(exc):
                raise
            raise _busy(exc, 1) from exc

    def transaction(self, work: Callable[[Connection], T], *, attempts: int = ATTEMPTS) -> T:
        """Run ``work(conn)`` in a write transaction, again from the start (in a new
        transaction) if the database aborted it for a passing reason, at most ``attempts``
        times in all; return what ``work`` returned.

        ``work`` must do nothing outside the database that cannot be done twice: effects
        outside it (waking a worker, say) belong after this returns. Any other error is
        raised at once. When the last attempt fails too, :class:`Busy` (HTTP 503).
        """
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        for attempt in range(1, attempts + 1):
            try:
                with self._begin() as conn:
                    return work(conn)
            except DBAPIError as exc:
                if not is_transient(exc):
                    raise
                if attempt == attempts:
                    raise _busy(exc, attempts) from exc
                _log.info("transaction attempt %d of %d: %s", attempt, attempts, exc.orig)
                _pause(attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """One write transaction, locks first: the SQLite mutex, or ``log_state`` on
        PostgreSQL (see the lock order in this module's docstring)."""
        callbacks: list[Callable[[], None]] = []
        if self._write_lock is None:
            with self._writer.begin() as conn:
                _AFTER_COMMIT[conn] = callbacks
                log.lock(conn)
                yield conn
        else:
            with self._write_lock, self._writer.begin() as conn:
                _AFTER_COMMIT[conn] = callbacks
                yield conn
        for callback in callbacks:  # reached only once the transaction has committed
            callback()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.connect() as conn, conn.begin():
            yield conn

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision of every branch (``heads``).

        Under a lock, taken before the schema is read: the PostgreSQL advisory lock
        ``MIGRATION_LOCK`` until the transaction ends, or SQLite's ``BEGIN IMMEDIATE``. Two
        processes starting together therefore migrate in turn, and the second finds the
        schema already new instead of creating the same tables again.
        """
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._writer.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "heads")

    def dispose(self) -> None:
        self._writer.dispose()
        self._reader.dispose()


def _pause(attempt: int) -> None:
    """Wait before attempt ``attempt + 1``: full jitter, doubling up to the cap."""
    time.sleep(random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)))


def is_transient(exc: DBAPIError) -> bool:
    """Whether the database gave up on a transaction for a reason that passes: a deadlock
    or serialization failure (PostgreSQL), or a database locked too long (SQLite)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", None)  # extended: the primary in its low byte
        busy = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        return (code is not None and code & 0xFF in busy) or "database is locked" in str(orig)
    return False


def _busy(exc: DBAPIError, attempts: int) -> Busy:
    tries = "once" if attempts == 1 else f"{attempts} times"
    return Busy(
        f"the database was too busy to finish this change (tried {tries}: "
        f"{type(exc.orig).__name__})",
        hint="nothing was changed: send the same request again in a moment",
    )


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_private(path: Path) -> None:
    """Create the database file ``path`` mode 0600 if it is missing; refuse it if group or
    others may access it; make its side files 0600 (SQLite gives them the database's
    mode, but a file left by an older version may be open)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        check_private(path, "database")
    except OSError:
        return  # no such folder, say: SQLite's own error names it when it opens
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        try:
            if side.stat().st_mode & 0o077:
                side.chmod(0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigError(
                f"cannot make {side} private: {exc.strerror}",
                hint=f"chmod 600 {side}",
            ) from exc


def _refuse_nul(context: Any) -> None:
    """PostgreSQL cannot hold a NUL character in text (SQLite can): input that carries one
    is refused as input, not left to fail as a 500 (the HTTP edges refuse it first)."""
    if "cannot contain NUL (0x00)" in str(context.original_exception):
        raise ValidationError(
            "text may not contain the NUL character (\\x00)",
            hint="remove control characters from the input",
        ) from context.original_exception


#: SQLSTATEs of a server that is going away or not yet accepting work: connection
#: exceptions (class 08), admin or crash shutdown, "the database system is starting up"
#: (a standby being promoted), and a read-only transaction (connected to a standby).
_GONE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "25006")


def _database_unavailable(context: Any) -> None:
    """Turn "the database server is gone" into :class:`DatabaseUnavailable` (HTTP 503,
    retry), instead of an unexplained 500.

    Why: when the primary dies, every request in flight fails while the standby is
    promoted. The transaction did not commit (PostgreSQL rolls back whatever a dead
    session held), so the client may retry; a commit in flight is the one case nobody can
    know, and a retry with the same ``client_ref`` is safe there too. SQLAlchemy still
    invalidates the dead connection and the pool behind it (``is_disconnect``), so the
    next request connects afresh, through the multi-host URL, to the new primary.
    Deadlocks and serialization failures (40P01, 40001) are not touched: they are retried
    by ``Database.transaction`` (``Busy`` if they outlast it). The ping before a checkout is left
    alone: SQLAlchemy handles a failed ping by reconnecting.
    """
    if context.is_pre_ping:
        return
    import psycopg  # here: a SQLite node never loads it

    original = context.original_exception
    state = getattr(original, "sqlstate", None)
    gone = context.is_disconnect or (
        isinstance(original, psycopg.OperationalError)
        and (state is None or state.startswith(_GONE_SQLSTATES))
    )
    if gone:
        raise DatabaseUnavailable(
            "the database is unavailable (its server stopped, or a standby is being "
            "promoted); nothing of this request was committed unless the commit itself "
            "was under way",
            hint="retry in a moment (with the same client_ref, when sending)",
            retry_after_s=2,
        ) from original


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _wal(cursor: Any) -> None:
    """Put the database in WAL mode, unless it is already (the mode stays in the file).

    Changing the journal mode needs the file to itself, and SQLite answers "database is
    locked" at once, without waiting its busy timeout, when another process holds a lock
    meanwhile (processes of a node starting together on a fresh file, one of them already
    migrating): so the change is tried again, with backoff, for up to the busy timeout."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    attempt = 0
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        _pause(attempt)
        attempt += 1


def _sqlite_engine(url: str, begin_sql: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        poolclass=NullPool if ":memory:" in url else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" hook below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        _wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()
        # SQLite's lower() folds ASCII only; searches fold Cyrillic too (storage/search.py)
        dbapi_conn.create_function("hl_lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine
