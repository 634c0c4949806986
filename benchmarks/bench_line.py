"""The line's speed between two real node processes on loopback (SQLite or PostgreSQL).

Prints, from one run:

- the anchor: raw durable single-row commits per second of the same backend, measured
  BEFORE and AFTER the line's run (a shared machine drifts; the ratio uses their mean):
  SQLite (WAL, ``synchronous=FULL``, one row per transaction) in the same folder as the
  nodes, or PostgreSQL (one single-row ``INSERT`` per commit, in a database of its own on
  the same server);
- sustained end-to-end messages per second (queued at ``us`` through the API until
  received by ``ru``), one message per request or ``--batch N`` per request
  (``POST /api/v1/messages/batch``), and its ratio to the anchor — the figure to improve;
- beside it, CPU milliseconds per message of each process: the sender node, the receiver
  node (``utime + stime`` of each ``hotline serve`` process from ``/proc/PID/stat``) and
  this bench client (its own, which includes polling the receiver's database); the one
  figure that stays stable on a shared machine. With PostgreSQL the database server's
  own CPU is in none of them;
- p50 / p99 delivery latency (sender's ``created`` to receiver's ``received_at``) at a
  steady offered load of ``--rate`` messages per second, one per request.

The nodes talk over mutual TLS (as in use); ``--plain`` runs them on plain HTTP on
loopback instead (``allow_plain_http``), to compare. With ``--backend postgresql`` each
node gets a fresh database on the server at ``HOTLINE_TEST_PG``'s host
(127.0.0.1:5432 by default), dropped afterwards.

Run: ``.venv/bin/python benchmarks/bench_line.py [--messages 2000] [--clients 4]
[--batch N] [--backend sqlite|postgresql] [--plain]``
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select

from hotline.clock import parse_rfc3339
from hotline.node import init_node
from hotline.storage.db import Database
from hotline.storage.tables.core import messages
from hotline.testing import (
    HTTP_TIMEOUT_S,
    DatabaseFactory,
    NodeProcess,
    free_port,
    tls_node_settings,
    verify_for,
)

PASSWORD = "line-figures-passphrase"  # the policy refuses one holding the user name
TICKS = os.sysconf("SC_CLK_TCK")


def sqlite_commit_rate(folder: Path, count: int = 500) -> float:
    path = folder / "anchor.db"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    start = time.perf_counter()
    for _ in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", ("x" * 600,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def postgresql_commit_rate(url: str, count: int = 500) -> float:
    """Single-row INSERT commits per second in the database at ``url``."""
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS anchor (id SERIAL PRIMARY KEY, body TEXT)")
        conn.commit()
        start = time.perf_counter()
        for _ in range(count):
            conn.execute("INSERT INTO anchor (body) VALUES (%s)", ("x" * 600,))
            conn.commit()
        elapsed = time.perf_counter() - start
    return count / elapsed


def make_nodes(folder: Path, plain: bool, db_urls: dict[str, str]) -> dict[str, NodeProcess]:
    scheme = "http" if plain else "https"
    urls = {p: f"{scheme}://127.0.0.1:{free_port()}" for p in ("us", "ru")}
    operator = {p: free_port() for p in urls}
    nodes = {
        p: init_node(
            folder / p,
            party=p,
            name_en=p.upper(),
            endpoints=[urls[p]],
            database_url=db_urls.get(p, ""),
            allow_plain_http=plain,
            settings=tls_node_settings(operator[p]),
        )
        for p in urls
    }
    for node in nodes.values():
        node.auth.add_user("bench", PASSWORD)
    nodes["us"].add_peer(nodes["ru"].identity.card().wire())
    nodes["ru"].add_peer(nodes["us"].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return {
        p: NodeProcess(folder / p, f"https://127.0.0.1:{operator[p]}", env, federation_url=urls[p])
        for p in urls
    }


class Receiver:
    """The receiving node's database, read by the bench."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)
        self._text = (messages.c.direction == "in", messages.c.type == "text")

    def count(self) -> int:  # not the nodes' own link tests
        with self.db.read() as conn:
            query = select(func.count()).select_from(messages).where(*self._text)
            return int(conn.execute(query).scalar_one())

    def received(self) -> list[tuple[str, str]]:
        with self.db.read() as conn:
            query = select(messages.c.created, messages.c.received_at).where(*self._text)
            return [(r[0], r[1]) for r in conn.execute(query)]

    def wait(self, count: int, timeout: float = 600) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return time.perf_counter()
            time.sleep(0.05)
        raise TimeoutError(f"fewer than {count} messages arrived in {timeout} s")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def sender(url: str, token: str, texts: list[str], pace: float | None, batch: int = 0) -> float:
    """Send ``texts`` (every ``pace`` seconds, or as fast as possible; ``batch`` > 0: that
    many per request through the batch API); the rate achieved."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(
        base_url=url, headers=headers, verify=verify_for(url), timeout=HTTP_TIMEOUT_S
    ) as client:
        start = time.perf_counter()
        if batch:
            for i in range(0, len(texts), batch):
                items = [{"to": "ru", "text": t} for t in texts[i : i + batch]]
                answer = client.post("/api/v1/messages/batch", json={"messages": items})
                answer.raise_for_status()
            return len(texts) / (time.perf_counter() - start)
        for i, text in enumerate(texts):
            if pace:
                delay = start + i * pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            client.post("/api/v1/messages", json={"to": "ru", "text": text}).raise_for_status()
        return len(texts) / (time.perf_counter() - start)


def sustained(
    receiver: Receiver, url: str, token: str, count: int, clients: int, batch: int
) -> tuple[int, float]:
    """(messages, seconds) from the first send until the last one arrived."""
    before = receiver.count()
    chunks = [[f"s{c}-{i}" for i in range(count // clients)] for c in range(clients)]
    threads = [threading.Thread(target=sender, args=(url, token, c, None, batch)) for c in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = sum(map(len, chunks))
    end = receiver.wait(before + total)
    return total, end - start


def latencies(
    receiver: Receiver, url: str, token: str, rate: float, seconds: float
) -> tuple[float, list[float]]:
    """The offered rate actually reached, and each message's delivery latency in ms."""
    before = receiver.count()
    count = int(rate * seconds)
    offered = sender(url, token, [f"p{i}" for i in range(count)], 1.0 / rate)
    receiver.wait(before + count)
    rows = sorted(receiver.received(), key=lambda r: r[0])[before:]
    return offered, [
        (parse_rfc3339(got) - parse_rfc3339(made)).total_seconds() * 1000 for made, got in rows
    ]


def measured(
    nodes: dict[str, NodeProcess], run: Callable[[], tuple[int, float]]
) -> tuple[int, float, dict[str, float]]:
    """Run ``run`` (returns messages, seconds); its CPU ms per message for each process."""
    pids = {p: n.process.pid for p, n in nodes.items() if n.process is not None}
    before = {p: cpu_s(pid) for p, pid in pids.items()} | {"client": own_cpu_s()}
    count, seconds = run()
    after = {p: cpu_s(pid) for p, pid in pids.items()} | {"client": own_cpu_s()}
    return count, seconds, {p: (after[p] - before[p]) * 1000 / count for p in before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=0, help="messages per batch request")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--plain", action="store_true", help="plain HTTP between the nodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        factory = None
        db_urls: dict[str, str] = {}
        if args.backend == "postgresql":
            (folder / "db").mkdir()
            factory = DatabaseFactory("postgresql", folder / "db")
            db_urls = {p: factory.new(f"line_{p}") for p in ("us", "ru", "anchor")}
            anchor_url = db_urls.pop("anchor")

            def anchor() -> float:
                return postgresql_commit_rate(anchor_url)
        else:

            def anchor() -> float:
                return sqlite_commit_rate(folder)

        try:
            before = anchor()
            nodes = make_nodes(folder, args.plain, db_urls)
            receiver = Receiver(db_urls.get("ru") or f"sqlite:///{folder / 'ru' / 'hotline.db'}")
            for node in nodes.values():
                node.start()
            try:
                token = httpx.post(
                    nodes["us"].url + "/api/v1/login",
                    json={"user": "bench", "password": PASSWORD},
                    verify=nodes["us"].verify,
                ).json()["token"]
                url = nodes["us"].url
                count, seconds, cpu = measured(
                    nodes,
                    lambda: sustained(
                        receiver, url, token, args.messages, args.clients, args.batch
                    ),
                )
                offered, lat = latencies(receiver, url, token, args.rate, args.seconds)
            finally:
                for node in nodes.values():
                    node.stop()
                receiver.db.dispose()
            after = anchor()
        finally:
            if factory is not None:
                factory.drop_all()
    rate = count / seconds
    mean = (before + after) / 2
    p50 = statistics.median(lat)
    p99 = statistics.quantiles(lat, n=100)[98]
    how = f"{args.batch} per batch request" if args.batch else "one per request"
    print(f"backend: {args.backend}; between the nodes: {'plain HTTP' if args.plain else 'mTLS'}")
    print(f"anchor: raw durable commits  before {before:8.0f} /s  after {after:8.0f} /s")
    print(
        f"line:   sustained end-to-end {rate:8.0f} msg/s  = {rate / mean:.3f} x anchor "
        f"({count} messages, {how}, {args.clients} clients)"
    )
    print(
        f"        CPU ms per message: sender node {cpu['us']:.2f}, receiver node "
        f"{cpu['ru']:.2f}, bench client {cpu['client']:.2f}"
    )
    print(f"line:   latency at {offered:.1f} msg/s offered (asked {args.rate:.0f}), singly")
    print(f"        p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")
    print(f"        (p50 = {p50 / (1000 / mean):.1f} x one raw commit)")


if __name__ == "__main__":
    main()
