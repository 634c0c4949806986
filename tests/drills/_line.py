"""A line whose ``us`` node keeps its database on a PostgreSQL primary with a synchronous
standby (clusters of the drill's own), and whose ``ru`` node is on SQLite; the helpers the
standby drill and its benchmark (benchmarks/bench_standby.py) share."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hotline.node import init_node
from hotline.testing import NodeProcess, free_port, tls_node_settings, verify_for
from hotline.testing_pg import PgCluster, pg_cluster_root, primary_with_standby

NAMES = {
    "us": ("United States", "Соединённые Штаты Америки", "en"),
    "ru": ("Russian Federation", "Российская Федерация", "ru"),
}
PASSWORDS = {"us": "us-drill-passphrase", "ru": "ru-drill-passphrase"}
#: Answers that mean "accepted": the message is the operator's to rely on.
ACCEPTED = (200, 201)


def node_url(primary: PgCluster, standby: PgCluster) -> str:
    """The production URL: both servers, the read-write one wins (libpq tries in order)."""
    return (
        f"postgresql://postgres@{primary.host()},{standby.host()}/hotline"
        "?target_session_attrs=read-write&connect_timeout=5"
    )


@dataclass
class StandbyLine:
    """Both clusters, both nodes (not started) and a logged-in client of each."""

    root: Path
    primary: PgCluster
    standby: PgCluster
    us: NodeProcess
    ru: NodeProcess
    database_url: str
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, bin_dir: Path, folder: Path, *, synchronous: bool = True) -> StandbyLine:
        root = pg_cluster_root()
        try:
            primary, standby = primary_with_standby(bin_dir, root, synchronous=synchronous)
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        line = cls(root, primary, standby, *_nodes(folder, primary, standby))
        return line

    def node(self, party: str) -> NodeProcess:
        return self.us if party == "us" else self.ru

    def start(self) -> None:
        self.us.start()
        self.ru.start()
        for party in ("us", "ru"):
            self.tokens[party] = login(self.node(party).url, party)

    def close(self) -> None:
        """Stop everything this line started, whatever state it is in."""
        for node in (self.us, self.ru):
            with contextlib.suppress(Exception):  # the clusters must still be stopped
                node.stop()
        try:
            self.primary.stop()
        finally:
            try:
                self.standby.stop()
            finally:
                shutil.rmtree(self.root, ignore_errors=True)

    def client(self, party: str) -> httpx.Client:
        url = self.node(party).url
        return httpx.Client(
            base_url=url,
            timeout=30,
            verify=verify_for(url),
            headers={"Authorization": f"Bearer {self.tokens[party]}"},
        )

    def outbox(self, party: str) -> dict[str, str]:
        """Message id -> state of every text message ``party`` sent."""
        with self.client(party) as http:
            answer = http.get("/api/v1/outbox", params={"limit": 5000})
            answer.raise_for_status()
            return {m["id"]: m["state"] for m in answer.json()}

    def inbox(self, party: str) -> dict[str, str]:
        with self.client(party) as http:
            answer = http.get("/api/v1/inbox", params={"limit": 5000})
            answer.raise_for_status()
            return {m["id"]: m["state"] for m in answer.json()}


def _nodes(folder: Path, primary: PgCluster, standby: PgCluster) -> tuple[Any, ...]:
    primary.sql("CREATE DATABASE hotline")
    urls = {party: f"https://127.0.0.1:{free_port()}" for party in ("us", "ru")}
    operator_ports = {party: free_port() for party in ("us", "ru")}
    database_url = node_url(primary, standby)
    nodes = {}
    for party in ("us", "ru"):
        name_en, name_ru, lang = NAMES[party]
        nodes[party] = init_node(
            folder / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[urls[party]],
            database_url=database_url if party == "us" else "",  # ru: SQLite
            settings=tls_node_settings(operator_ports[party]),
        )
        nodes[party].auth.add_user("officer", PASSWORDS[party])
    nodes["us"].add_peer(nodes["ru"].identity.card().wire())
    nodes["ru"].add_peer(nodes["us"].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_RETRY_CAP_S="1",
        HOTLINE_RETRY_BASE_S="0.1",
        HOTLINE_LINK_TEST_INTERVAL_S="5",
        HOTLINE_LINK_TEST_TIMEOUT_S="5",
        HOTLINE_TICK_S="0.5",
    )
    procs = tuple(
        NodeProcess(
            folder / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            env,
            federation_url=urls[party],
        )
        for party in ("us", "ru")
    )
    return (*procs, database_url)


def login(url: str, party: str) -> str:
    answer = httpx.post(
        url + "/api/v1/login",
        json={"user": "officer", "password": PASSWORDS[party]},
        timeout=30,
        verify=verify_for(url),
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


class Sender(threading.Thread):
    """Sends numbered messages one after another until told to stop, retrying each with
    the same ``client_ref`` until it is accepted; keeps every accepted id and every answer
    that was not an acceptance (status code, or the exception's name)."""

    def __init__(
        self, line: StandbyLine, party: str, to: str, prefix: str, limit: int | None = None
    ) -> None:
        super().__init__(daemon=True, name=f"sender-{prefix}")
        self.line, self.party, self.to, self.prefix = line, party, to, prefix
        self.limit = limit  # stop after this many accepted (None: when told to)
        self.accepted: list[str] = []
        self.refusals: list[str | int] = []
        self.accepted_at: list[float] = []  # time.monotonic() of each acceptance
        self.refused_at: list[float] = []  # and of each refusal
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.line.client(self.party) as http:
                i = 0
                while not self.stopping.is_set() and i != self.limit:
                    self._send(http, i)
                    i += 1
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def _send(self, http: httpx.Client, i: int) -> None:
        body = {"to": self.to, "text": f"{self.prefix}-{i:05d}", "client_ref": f"{self.prefix}-{i}"}
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                answer = http.post("/api/v1/messages", json=body)
            except httpx.HTTPError as exc:
                self.refusals.append(type(exc).__name__)
                self.refused_at.append(time.monotonic())
            else:
                if answer.status_code in ACCEPTED:
                    self.accepted.append(str(answer.json()["id"]))
                    self.accepted_at.append(time.monotonic())
                    return
                self.refusals.append(answer.status_code)
                self.refused_at.append(time.monotonic())
                # 503: the database is away (failover). Anything else (a 500 above all)
                # is a failure of the drill.
                if answer.status_code != 503:
                    raise AssertionError(f"send answered {answer.status_code}: {answer.text}")
            # a retry pause on a refusal, not a synchronisation: the next try is the check
            self.stopping.wait(0.2)
        raise TimeoutError(f"{self.prefix}: message {i} not accepted in 180 s")

    def wait_for_count(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if self.error is not None:
                raise AssertionError(f"{self.prefix} failed: {self.error!r}")
            if time.monotonic() > deadline or not self.is_alive():
                raise AssertionError(f"{self.prefix}: {len(self.accepted)} of {count} accepted")
            time.sleep(0.05)

    def finish(self) -> None:
        self.stopping.set()
        self.join(timeout=200)
        if self.error is not None:
            raise AssertionError(f"{self.prefix} failed: {self.error!r}")
