"""Test helpers shipped with the package: throwaway databases, nodes and node processes.

Used by hotline's own suite and usable by anyone testing against hotline (like
structlog's ``testing`` module). Nothing here is imported by the running node.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

#: Where the PostgreSQL test databases are created (trust auth on this machine).
PG_ADMIN_URL = os.environ.get("HOTLINE_TEST_PG", "postgresql://127.0.0.1:5432/test")


def postgres_available(url: str = PG_ADMIN_URL) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@dataclass
class DatabaseFactory:
    """Hands out fresh databases for one test run and drops them all at the end."""

    backend: str
    root: Path
    admin_url: str = PG_ADMIN_URL
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    created: list[str] = field(default_factory=list)
    template: str | None = None

    def new(self, name: str) -> str:
        """A URL for a new database called after ``name``, already migrated to the newest
        schema (copied from a template made once per run: migrating every test's database
        from scratch would cost more than most tests)."""
        template = self._template()
        if self.backend == "sqlite":
            path = self.root / f"{name}-{len(self.created)}.db"
            shutil.copyfile(template, path)
            self.created.append(str(path))
            return f"sqlite:///{path}"
        db_name = f"hotline_test_{self.run_id}_{len(self.created)}_{name}".replace("-", "_")
        self._admin(f'CREATE DATABASE "{db_name}" TEMPLATE "{template}"')
        self.created.append(db_name)
        return self._url(db_name)

    def _template(self) -> str:
        if self.template is None:
            from hotline.storage.db import Database

            if self.backend == "sqlite":
                self.template = str(self.root / "template.db")
                url = f"sqlite:///{self.template}"
            else:
                self.template = f"hotline_test_{self.run_id}_template"
                self._admin(f'CREATE DATABASE "{self.template}"')
                self.created.append(self.template)
                url = self._url(self.template)
            db = Database(url)
            db.migrate()
            db.dispose()
        return self.template

    def _url(self, db_name: str) -> str:
        return f"{self.admin_url.rsplit('/', 1)[0]}/{db_name}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.encode())  # names are built here, never taken from input

    def drop_all(self) -> None:
        if self.backend != "postgresql":
            return
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for db_name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        self.created.clear()


_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    """The lowest port the kernel gives to outgoing connections (Linux; else IANA's 49152)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def free_port() -> int:
    """A loopback port no one is listening on, chosen below the ephemeral range.

    Asking the kernel for port 0 hands out a port from the ephemeral range, which the
    kernel may give to an outgoing connection (any HTTP client in the test run) before
    the server binds it: "address already in use". Ports below that range are never
    assigned implicitly, and this process never hands out the same one twice.
    """
    high = _ephemeral_low() - 1
    low = max(10000, high - 12000)
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


@dataclass
class NodeProcess:
    """A node running as its own ``hotline serve`` process."""

    directory: Path
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()  # more options for ``hotline serve``, e.g. ("--port", "N")

    def start(self, timeout: float = 30.0) -> None:
        log = open(self.directory / "serve.log", "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline", "serve", "--dir", str(self.directory), *self.args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited early: {self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
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


def api(url: str, token: str | None = None) -> httpx.Client:
    headers: dict[str, Any] = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)


class ServerThread:
    """Serve an ASGI app with uvicorn on a loopback port in a background thread."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        import threading

        import uvicorn

        self.port = port or free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
