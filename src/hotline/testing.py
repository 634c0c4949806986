"""Test helpers shipped with the package: throwaway databases, nodes and node processes,
a wait with a deadline, an HTTP timeout for tests, and cheap password hashing for tests
(PostgreSQL clusters of a test's own are in :mod:`hotline.testing_pg`).

Used by hotline's own suite and usable by anyone testing against hotline (like
structlog's ``testing`` module). Nothing here is imported by the running node.
"""

from __future__ import annotations

import itertools
import os
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    import psycopg

#: Where the PostgreSQL test databases are created (trust auth on this machine).
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql://127.0.0.1:5432/test")

#: Timeout (s) for the HTTP requests of tests and test helpers: generous, so that a busy
#: machine slows a test down instead of failing it (httpx's own default is 5 s).
HTTP_TIMEOUT_S = 60.0

#: Every test database's name starts with this, then its run's id: ``hotline_test_k<run>_…``.
#: (The ``k`` tells these runs, which hold a lock while they live, from older ones.)
DB_PREFIX = "hotline_test_k"
_RUN_OF = re.compile(r"^hotline_test_k([0-9a-f]{8})_")
#: First half of the two-part advisory-lock key that a run holds while it lives ("htst").
_LOCK_CLASS = 0x68747374

T = TypeVar("T")


def postgres_available(url: str = PG_ADMIN_URL) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def wait_for(check: Callable[[], T], what: str, *, timeout: float, every: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy, and return that.

    ``timeout`` (s) is required: how long the wait may take on a busy machine. When it has
    passed, AssertionError says what was awaited.
    """
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


@dataclass
class DatabaseFactory:
    """Hands out fresh, migrated databases for one test run and drops them all.

    On PostgreSQL each database is a copy of a template migrated once per run
    (``CREATE DATABASE … TEMPLATE``). Dropping one makes the server wait for a checkpoint
    (seconds, minutes on a busy server), so drops run in background threads, several at a
    time (drops waiting together share one checkpoint): :meth:`release` queues one as soon
    as its test is done with it, and :meth:`drop_all` drops the rest at once and waits.
    Dropping early also spares the server writing out the copy's pages at all.

    A run holds a PostgreSQL advisory lock keyed by its id for as long as its process lives
    (the server lets go when the connection closes, also when the process is killed). A
    run's first database therefore also queues the drop of every ``hotline_test_k…``
    database whose run's lock is free: what a failed or killed run left behind goes at the
    next run, and runs going on at the same time, from any machine, are never touched.
    """

    backend: str
    root: Path
    admin_url: str = PG_ADMIN_URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    created: list[str] = field(default_factory=list)
    template: str | None = None
    _lock: psycopg.Connection[Any] | None = field(default=None, init=False, repr=False)
    _drops: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)
    _serial: Iterator[int] = field(default_factory=itertools.count, init=False, repr=False)
    _dropping: list[Future[None]] = field(default_factory=list, init=False, repr=False)

    def new(self, name: str) -> str:
        """A URL for a new database called after ``name``, already migrated to the newest
        schema (copied from a template made once per run: migrating every test's database
        from scratch would cost more than most tests)."""
        template = self._template()
        serial = next(self._serial)  # not len(created): released ones leave it
        if self.backend == "sqlite":
            path = self.root / f"{name}-{serial}.db"
            shutil.copyfile(template, path)
            path.chmod(0o600)  # a database is its owner's only (storage.db.make_private)
            self.created.append(str(path))
            return f"sqlite:///{path}"
        db_name = f"{DB_PREFIX}{self.run_id}_{serial}_{name}".replace("-", "_")[:63]
        self._admin(f'CREATE DATABASE "{db_name}" TEMPLATE "{template}"')
        self.created.append(db_name)
        return self._url(db_name)

    def release(self, url: str) -> None:
        """Queue the drop of a database from :meth:`new` that nothing uses any more."""
        db_name = url.rsplit("/", 1)[1]
        if self.backend == "postgresql" and db_name in self.created:
            self.created.remove(db_name)
            self._drop(db_name)

    def drop_all(self) -> None:
        """Drop every database this run still has (the template too), all at once (they
        share the server's checkpoints), and wait for every drop."""
        if self.backend != "postgresql":
            return
        last = ThreadPoolExecutor(min(32, max(1, len(self.created))), "drop-test-db-last")
        sql = 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)'
        dropping = [
            *self._dropping,
            *(last.submit(self._admin, sql.format(n)) for n in self.created),
        ]
        self.created.clear()
        self._dropping = []
        try:
            for future in dropping:
                future.result()
        finally:
            last.shutdown()
            if self._drops is not None:
                self._drops.shutdown()
                self._drops = None
            if self._lock is not None:
                self._lock.close()  # lets go of this run's lock
                self._lock = None

    def _template(self) -> str:
        if self.template is None:
            from hotline.storage.db import Database

            if self.backend == "sqlite":
                self.template = str(self.root / "template.db")
                url = f"sqlite:///{self.template}"
            else:
                self._hold_run_lock()
                self._drop_dead_runs()
                self.template = f"{DB_PREFIX}{self.run_id}_template"
                self._admin(f'CREATE DATABASE "{self.template}"')
                self.created.append(self.template)
                url = self._url(self.template)
            db = Database(url)
            db.migrate()
            db.dispose()
        return self.template

    def _hold_run_lock(self) -> None:
        import psycopg

        self._lock = psycopg.connect(self.admin_url, autocommit=True)
        while not self._try_lock(self.run_id):  # a live run drew the same id
            self.run_id = secrets.token_hex(4)

    def _try_lock(self, run_id: str) -> bool:
        assert self._lock is not None
        key = int(run_id, 16) - 2**31  # the key's two parts are signed 32-bit integers
        row = self._lock.execute("SELECT pg_try_advisory_lock(%s, %s)", (_LOCK_CLASS, key))
        return bool(row.fetchone()[0])  # type: ignore[index]

    def _drop_dead_runs(self) -> None:
        """Queue the drop of every database whose run's lock is free: that run is dead.

        The dead runs' locks stay taken until this run ends, so no other run drops the
        same databases meanwhile.
        """
        assert self._lock is not None
        rows = self._lock.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hotline\\_test\\_k%'"
        ).fetchall()
        by_run: dict[str, list[str]] = {}
        for (db_name,) in rows:
            found = _RUN_OF.match(db_name)
            if found and found.group(1) != self.run_id:
                by_run.setdefault(found.group(1), []).append(db_name)
        for run_id, names in by_run.items():
            if self._try_lock(run_id):
                for db_name in names:
                    self._drop(db_name)

    def _drop(self, db_name: str) -> None:
        if self._drops is None:
            self._drops = ThreadPoolExecutor(8, thread_name_prefix="drop-test-db")
        sql = f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'
        self._dropping.append(self._drops.submit(self._admin, sql))

    def _url(self, db_name: str) -> str:
        return f"{self.admin_url.rsplit('/', 1)[0]}/{db_name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.encode())  # names are built here, never taken from input


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port the kernel gives to outgoing connections (Linux; else IANA's 49152)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def _xdist_workers() -> int:
    """How many pytest-xdist workers this run has (1 without xdist)."""
    count = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")
    return int(count) if count.isdigit() and int(count) > 0 else 1


def free_port() -> int:
    """A loopback port no one is listening on, chosen below the ephemeral range.

    Asking the kernel for port 0 hands out a port from the ephemeral range, which the
    kernel may give to an outgoing connection (any HTTP client in the test run) before
    the server binds it: "address already in use". Ports below that range are never
    assigned implicitly, and this process never hands out the same one twice.
    """
    high = _ephemeral_low() - 1
    low = max(10000, high - 12000)
    # Several pytest-xdist workers each hand out ports: each takes a slice of its own, since
    # a port one worker checked and handed out is not bound until its server starts.
    worker, workers = os.environ.get("PYTEST_XDIST_WORKER", ""), _xdist_workers()
    if workers > 1 and worker.startswith("gw") and worker[2:].isdigit():
        span = (high - low + 1) // workers
        low += int(worker[2:]) % workers * span
        high = low + span - 1
    for _ in range(500):
        port = secrets.choice(range(low, high + 1))
        if port in _HANDED_OUT:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError(f"no free loopback port between {low} and {high}")


def cheap_password_hashing() -> None:
    """Hash passwords in this process with Argon2's cheapest parameters (tests only).

    Each hash with the real parameters costs a test about half a second of CPU. A hash
    records its parameters, so hashes made either way verify either way. Nothing a node
    reads (setting, environment variable) leads here: only a test calls it, or a node
    started by :class:`NodeProcess` through this module's launcher.
    """
    from argon2 import PasswordHasher, profiles

    from hotline.services import auth

    auth._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    auth._DUMMY_HASH = auth._hasher.hash("not a real password, only spends the same time")


#: Operator URL -> the node folder whose operator certificate a test client trusts there.
_TRUSTED: dict[str, Path] = {}


def trust(url: str, directory: Path) -> None:
    """Have :func:`api` (and :func:`verify_for`) trust, at ``url``, the operator
    certificate of the node in ``directory`` (read at each use: a rotation shows)."""
    _TRUSTED[url.rstrip("/")] = directory


def verify_for(url: str) -> ssl.SSLContext | bool:
    """What a test client of ``url`` trusts: the operator certificate of the node served
    there (see :func:`trust`), or the system's store for any other URL."""
    directory = _TRUSTED.get(url.rstrip("/"))
    if directory is None:
        return True
    from hotline.config import load_settings
    from hotline.protocol import tls

    settings = load_settings(directory, environ={})
    return tls.trust_context(Path(settings.operator_cert_file or tls.cert_path(directory)))


def tls_node_settings(operator_port: int) -> dict[str, Any]:
    """Settings for :func:`hotline.node.init_node` of a node a test serves on TLS: the
    operator listener on ``operator_port`` (the federation one is on the endpoint)."""
    return {"operator_listen": f"127.0.0.1:{operator_port}"}


@dataclass
class NodeProcess:
    """A node running as its own ``hotline serve`` process, with both listeners.

    ``url`` is the operator listener's URL (https: :func:`api` trusts the node's operator
    certificate there), ``federation_url`` the federation listener's (mutual TLS).
    By default the process hashes passwords cheaply (:func:`cheap_password_hashing`,
    through ``python -m hotline.testing``); ``real_hashing=True`` runs the plain CLI.
    """

    directory: Path
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    # more options for ``hotline serve``, e.g. ("--operator-listen", "127.0.0.1:N")
    args: tuple[str, ...] = ()
    real_hashing: bool = False
    federation_url: str = ""

    def __post_init__(self) -> None:
        trust(self.url, self.directory)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What a client of this node's operator listener trusts."""
        return verify_for(self.url)

    def start(self, timeout: float = 120.0) -> None:
        log = open(self.directory / "serve.log", "ab")  # noqa: SIM115 - closed with the process
        launcher = "hotline" if self.real_hashing else "hotline.testing"
        self.process = subprocess.Popen(
            [sys.executable, "-m", launcher, "serve", "--dir", str(self.directory), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited early: {self.log_tail()}")
            try:
                answer = httpx.get(self.url + "/health", timeout=2, verify=self.verify)
                if answer.status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"node at {self.url} did not come up: {self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a power cut of the process."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def log_tail(self, lines: int = 30) -> str:
        path = self.directory / "serve.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running(*nodes: NodeProcess) -> Iterator[tuple[NodeProcess, ...]]:
    for node in nodes:
        node.start()
    try:
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def api(
    url: str | NodeProcess,
    token: str | None = None,
    verify: ssl.SSLContext | bool | None = None,
    *,
    source: str | None = None,
) -> httpx.Client:
    """An HTTP client of a node's operator side (``url`` or a :class:`NodeProcess`),
    trusting the node's operator certificate (see :func:`trust`) unless ``verify``;
    ``source``: the local address to connect from (e.g. ``127.0.0.2``, a second machine
    on loopback)."""
    base = url.url if isinstance(url, NodeProcess) else url
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"} if token else {}
    trusted = verify_for(base) if verify is None else verify
    transport = httpx.HTTPTransport(local_address=source, verify=trusted) if source else None
    return httpx.Client(
        base_url=base,
        headers=headers,
        timeout=HTTP_TIMEOUT_S,
        verify=trusted,
        transport=transport,
    )


class ServerThread:
    """Serve an ASGI app with uvicorn on a loopback port in a background thread (plain
    HTTP, or TLS with ``ssl_context``)."""

    def __init__(
        self, app: Any, port: int | None = None, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        import threading

        import uvicorn

        self.port = port or free_port()
        self.tls = ssl_context is not None
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            ssl_context_factory=(lambda _config, _default: ssl_context) if ssl_context else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.signal_exit()
        self.join()

    def signal_exit(self) -> None:
        """Ask the server to stop (it notices within 0.1 s, then takes 0.1 s to close)."""
        self.server.should_exit = True

    def join(self, timeout: float = 30.0) -> None:
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise RuntimeError(f"the test server on port {self.port} did not stop")


@contextmanager
def serving(*servers: ServerThread) -> Iterator[tuple[ServerThread, ...]]:
    """Run several servers; stop them together (uvicorn's 0.2 s shutdown paid once)."""
    started: list[ServerThread] = []
    try:
        for server in servers:
            started.append(server.__enter__())
        yield servers
    finally:
        for server in started:
            server.signal_exit()
        for server in started:
            server.join()


def die_with_parent() -> None:
    """Ask Linux to stop this process (SIGTERM) when the process that started it dies.

    A test run that is killed runs no fixture teardown; without this, the node processes
    it started would serve on, holding ports and databases, after it is gone. (Linux
    sends the signal when the *thread* that started the process ends: start nodes from a
    test's own thread, as every test does.)
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() == 1:  # the parent died before the request was made
        sys.exit("hotline.testing: the test run that started this node is gone")


if __name__ == "__main__":  # ``python -m hotline.testing serve …``: the CLI, hashing cheaply
    from hotline.cli.main import main

    die_with_parent()
    cheap_password_hashing()
    main()
