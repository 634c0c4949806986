"""The line's speed between two real node processes on loopback (SQLite).

Prints, from one run:

- the anchor: raw durable commits per second of this disk (SQLite, WAL,
  ``synchronous=FULL``, one row per transaction), in the same folder as the nodes;
- sustained end-to-end messages per second (queued at ``us`` through the API until
  receipted by ``ru``), and its ratio to the anchor — the figure to improve;
- p50 / p99 delivery latency (sender's ``created`` to receiver's ``received_at``) at a
  steady offered load of 100 messages per second.

The nodes talk over mutual TLS (as in use); ``--plain`` runs them on plain HTTP on
loopback instead (``allow_plain_http``), to compare.

Run: ``.venv/bin/python benchmarks/bench_line.py [--messages 2000] [--clients 4] [--plain]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from hotline.clock import parse_rfc3339
from hotline.node import init_node
from hotline.storage.db import Database
from hotline.storage.tables.core import messages
from hotline.testing import NodeProcess, free_port, tls_node_settings, verify_for

PASSWORD = "line-figures-passphrase"  # the policy refuses one holding the user name


def raw_commit_rate(folder: Path, count: int = 500) -> float:
    path = folder / "anchor.db"
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


def make_nodes(folder: Path, plain: bool = False) -> dict[str, NodeProcess]:
    scheme = "http" if plain else "https"
    urls = {p: f"{scheme}://127.0.0.1:{free_port()}" for p in ("us", "ru")}
    operator = {p: free_port() for p in urls}
    nodes = {
        p: init_node(
            folder / p,
            party=p,
            name_en=p.upper(),
            endpoints=[urls[p]],
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


def received(folder: Path) -> list[tuple[str, str]]:
    db = Database(f"sqlite:///{folder / 'ru' / 'hotline.db'}")
    try:
        with db.read() as conn:
            rows = conn.execute(
                select(messages.c.created, messages.c.received_at).where(
                    messages.c.direction == "in", messages.c.type == "text"
                )  # not the nodes' own link tests
            )
            return [(r[0], r[1]) for r in rows]
    finally:
        db.dispose()


def sender(url: str, token: str, texts: list[str], pace: float | None) -> float:
    """Send ``texts`` (every ``pace`` seconds, or as fast as possible); the rate achieved."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, verify=verify_for(url)) as client:
        start = time.perf_counter()
        for i, text in enumerate(texts):
            if pace:
                delay = start + i * pace - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            client.post("/api/v1/messages", json={"to": "ru", "text": text}).raise_for_status()
        return len(texts) / (time.perf_counter() - start)


def wait_received(folder: Path, count: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(received(folder)) >= count:
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"fewer than {count} messages arrived in {timeout} s")


def sustained(folder: Path, url: str, token: str, count: int, clients: int) -> float:
    chunks = [[f"s{c}-{i}" for i in range(count // clients)] for c in range(clients)]
    threads = [threading.Thread(target=sender, args=(url, token, c, None)) for c in chunks]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = wait_received(folder, sum(map(len, chunks)))
    return sum(map(len, chunks)) / (end - start)


def latencies(
    folder: Path, url: str, token: str, rate: float, seconds: float
) -> tuple[float, list[float]]:
    """The offered rate actually reached, and each message's delivery latency in ms."""
    before = len(received(folder))
    count = int(rate * seconds)
    offered = sender(url, token, [f"p{i}" for i in range(count)], 1.0 / rate)
    wait_received(folder, before + count)
    rows = sorted(received(folder), key=lambda r: r[0])[before:]
    return offered, [
        (parse_rfc3339(got) - parse_rfc3339(made)).total_seconds() * 1000 for made, got in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--plain", action="store_true", help="plain HTTP between the nodes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        anchor = raw_commit_rate(folder)
        nodes = make_nodes(folder, args.plain)
        for node in nodes.values():
            node.start()
        try:
            token = httpx.post(
                nodes["us"].url + "/api/v1/login",
                json={"user": "bench", "password": PASSWORD},
                verify=nodes["us"].verify,
            ).json()["token"]
            rate = sustained(folder, nodes["us"].url, token, args.messages, args.clients)
            offered, lat = latencies(folder, nodes["us"].url, token, args.rate, args.seconds)
        finally:
            for node in nodes.values():
                node.stop()
    p50 = statistics.median(lat)
    p99 = statistics.quantiles(lat, n=100)[98]
    print(f"between the nodes: {'plain HTTP' if args.plain else 'mutual TLS'}")
    print(f"anchor: raw durable commits          {anchor:10.0f} /s")
    ratio = rate / anchor
    print(f"line:   sustained end-to-end          {rate:10.0f} msg/s  = {ratio:.3f} x anchor")
    print(f"line:   latency at {offered:.1f} msg/s offered (asked {args.rate:.0f})")
    print(f"        p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")
    print(f"        (p50 = {p50 / (1000 / anchor):.1f} x one raw commit)")


if __name__ == "__main__":
    main()
