"""Fixtures shared by the whole suite: a database backend per run, nodes, node pairs.

Every test that touches storage runs once per backend: SQLite always, PostgreSQL when
it answers at 127.0.0.1:5432 (required under CI). Each run creates its own databases,
drops each in the background once its test is done, and drops what a dead run left
(see ``hotline.testing.DatabaseFactory``).

Passwords are hashed with Argon2's cheapest parameters in this process and in the node
processes tests start (``hotline.testing.cheap_password_hashing``): the real ones cost
half a second a hash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest

from hotline.app import create_app
from hotline.clock import FakeClock
from hotline.node import Node, init_node
from hotline.services.line.delivery import Courier, Outcome
from hotline.testing import (
    HTTP_TIMEOUT_S,
    DatabaseFactory,
    ServerThread,
    cheap_password_hashing,
    free_port,
    postgres_available,
    serving,
)

cheap_password_hashing()

# Hypothesis fails an example that takes over 200 ms by default: a library's default
# timeout, which a busy CI machine overruns. Examples here are bounded by their own sizes.
hypothesis.settings.register_profile("hotline", deadline=None)
hypothesis.settings.load_profile("hotline")

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 in their environment; Rich
# fixes a console's width when it is made (the CLI's consoles are made at import), so the
# CLI tests, which give COLUMNS per command, would see 80 columns under xdist only.
for _name in ("COLUMNS", "LINES"):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ.pop(_name, None)

NAMES = {
    "us": ("United States", "Соединённые Штаты Америки", "en"),
    "ru": ("Russian Federation", "Российская Федерация", "ru"),
    "ua": ("Ukraine", "Украина", "en"),
}


def _backends() -> list[str]:
    wanted = os.environ.get("HOTLINE_TEST_BACKENDS")
    if wanted:
        return [b for b in wanted.split(",") if b]
    if postgres_available():
        return ["sqlite", "postgresql"]
    if os.environ.get("CI"):
        raise RuntimeError("CI needs PostgreSQL at 127.0.0.1:5432 and it does not answer")
    return ["sqlite"]


BACKENDS = _backends()


@pytest.fixture(scope="session", params=BACKENDS)
def databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(request.param, tmp_path_factory.mktemp(f"db-{request.param}"))
    yield factory
    factory.drop_all()


def on_production_backend(databases: DatabaseFactory) -> None:
    """Skip on SQLite when PostgreSQL is under test too. For the drills with real node
    processes whose subject is not the database (TLS, keys, calls, negotiation, alarms
    …): they run once, on the backend production uses; what they store is tested on both
    backends by the service tests, and the drills whose subject is storage (SIGKILL,
    restore, concurrent senders, standby processes, chaos) keep both. Without PostgreSQL
    they run on SQLite rather than not at all."""
    if databases.backend != "postgresql" and "postgresql" in BACKENDS:
        pytest.skip("a drill whose subject is not the database: run on PostgreSQL only")


@pytest.fixture
def production_backend(databases: DatabaseFactory) -> None:
    """See :func:`on_production_backend`; list it first among a test's fixtures."""
    on_production_backend(databases)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


MakeNode = Callable[..., Node]


@pytest.fixture
def make_node(tmp_path: Path, databases: DatabaseFactory, clock: FakeClock) -> Iterator[MakeNode]:
    """Create a node (not serving) with its own fresh database and the fake clock."""
    made: list[Node] = []
    urls: list[str] = []

    def make(
        party: str,
        *,
        real_clock: bool = False,
        files: dict[str, Any] | None = None,
        file_settings: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Node:
        """``files``: JSON files to write beside the settings (e.g. contacts.json);
        ``file_settings``: settings written to its ``hotline.toml`` (seen by the CLI)."""
        name_en, name_ru, lang = NAMES[party]
        directory = tmp_path / f"{party}-{len(made)}"
        endpoints = overrides.pop("endpoints", None) or [f"http://127.0.0.1:{free_port()}"]
        urls.append(databases.new(party))
        first = init_node(
            directory,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=endpoints,
            database_url=urls[-1],
            # in-process nodes serve plain HTTP on loopback (ServerThread)
            allow_plain_http=endpoints[0].startswith("http://"),
            settings=file_settings,
        )
        first.db.dispose()
        for name, content in (files or {}).items():
            (directory / name).write_text(json.dumps(content, ensure_ascii=False), "utf-8")
        # one request between in-process nodes may wait on a busy CI machine well past
        # the production default (10 s: a checkpoint exchange timed out once): an explicit,
        # generous deadline instead
        overrides.setdefault("request_timeout_s", 30.0)
        settings = first.settings.replace(**overrides)
        node = Node(settings, None if real_clock else clock)
        made.append(node)
        return node

    yield make
    for node in made:
        node.stop()
    for url in urls:
        databases.release(url)


@dataclasses.dataclass
class Pair:
    """Two in-process nodes that have pinned each other; delivery is stepped by hand."""

    us: Node
    ru: Node
    servers: dict[str, ServerThread]  # plain HTTP at each endpoint, every route
    http: httpx.Client
    # each node's operator listener (TLS, at its operator_listen): where the CLI goes
    operators: dict[str, ServerThread] = dataclasses.field(default_factory=dict)

    def node(self, party: str) -> Node:
        return self.us if party == "us" else self.ru

    def deliver(self, sender: str, receiver: str) -> Outcome | None:
        """One delivery round from ``sender`` to ``receiver`` over real (ASGI) HTTP."""
        courier = Courier(self.node(sender).line, receiver, self.http)
        return courier.deliver_once()

    def flush(self) -> None:
        """Deliver until both channels are empty."""
        for _ in range(20):
            moved = [self.deliver("us", "ru"), self.deliver("ru", "us")]
            if all(outcome is None for outcome in moved):
                return
        raise AssertionError("channels did not drain")


MakePair = Callable[..., contextlib.AbstractContextManager[Pair]]


@pytest.fixture
def make_pair(make_node: MakeNode) -> MakePair:
    """Two nodes (us, ru) that pinned each other, each behind a real uvicorn server.

    Keyword arguments ``us={...}`` / ``ru={...}`` go to ``make_node`` for that side.
    """

    @contextlib.contextmanager
    def make(us: dict[str, Any] | None = None, ru: dict[str, Any] | None = None) -> Iterator[Pair]:
        ports = {"us": free_port(), "ru": free_port()}
        operator_ports = {"us": free_port(), "ru": free_port()}
        nodes = {
            party: make_node(
                party,
                endpoints=[f"http://127.0.0.1:{ports[party]}"],
                file_settings={"operator_listen": f"127.0.0.1:{operator_ports[party]}"},
                **(extra or {}),
            )
            for party, extra in (("us", us), ("ru", ru))
        }
        nodes["us"].add_peer(nodes["ru"].identity.card().wire())
        nodes["ru"].add_peer(nodes["us"].identity.card().wire())
        servers = {
            party: ServerThread(create_app(nodes[party], start_workers=False), ports[party])
            for party in ("us", "ru")
        }
        operators = {
            party: ServerThread(
                create_app(nodes[party], side="operator", start_workers=False),
                operator_ports[party],
                nodes[party].tls.operator_context(),
            )
            for party in ("us", "ru")
        }
        with (
            serving(*servers.values(), *operators.values()),
            httpx.Client(timeout=HTTP_TIMEOUT_S) as http,
        ):
            yield Pair(nodes["us"], nodes["ru"], servers, http, operators)

    return make


@pytest.fixture
def pair(make_pair: MakePair) -> Iterator[Pair]:
    with make_pair() as made:
        yield made


def token(node: Node, name: str = "officer", password: str = "correct horse") -> str:
    """Create a user on ``node`` and return a bearer token for it."""
    node.auth.add_user(name, password)
    return node.auth.login(name, password)[0]
