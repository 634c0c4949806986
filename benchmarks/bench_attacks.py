"""A node under attack, beside the same node at rest, measured in one run.

Two real node processes (``us`` → ``ru``, SQLite, real Argon2) on loopback. For each
phase — no attack, then each attack on ``ru`` in turn — it prints:

- ``/health`` latency of ``ru`` (p50 / p99, a new connection per probe, 10 per second);
- ``ru``'s resident memory (peak during the phase, and its growth over the phase's start);
- a legitimate peer's delivery latency (``us`` queues a text every 0.5 s; sender's
  ``created`` to ``ru``'s ``received_at``, p50 / max);
- ``ru``'s CPU time (all threads) per attack unit (one request or connection), and the
  ratio of each latency to the same figure at rest.

Attacks (from 127.0.0.2 and up; the legitimate traffic comes from 127.0.0.1):

- ``big body``: 30 MiB of ``[]`` posted to ``/federation/v1/envelopes``, declared length;
- ``chunked body``: 100 MB chunked to ``/api/v1/messages``;
- ``slowloris``: 600 connections sending half their headers, one byte more every 0.5 s;
- ``connection flood``: 4 threads opening connections from one address, as fast as they can;
- ``login flood``: 48 threads logging in with random names and passwords.

Run: ``.venv/bin/python benchmarks/bench_attacks.py [--seconds 8]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select

from hotline.clock import parse_rfc3339
from hotline.node import init_node
from hotline.storage.db import Database
from hotline.storage.tables.core import messages
from hotline.testing import NodeProcess, free_port

PASSWORD = "benchmark-password"
MIB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")

Attack = Callable[[int, int, threading.Event], int]  # (ru's port, us's port, stop) → units


def _connect(port: int, source: str) -> socket.socket:
    sock = socket.socket()
    sock.settimeout(30)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def _post_until_answered(sock: socket.socket, head: bytes, chunks: int, chunk: bytes) -> None:
    sock.sendall(head)
    sock.setblocking(False)
    for _ in range(chunks):
        with contextlib.suppress(BlockingIOError):
            if sock.recv(1024):
                return  # answered (413): stop sending
        try:
            sock.setblocking(True)
            sock.sendall(chunk)
            sock.setblocking(False)
        except OSError:
            return


def big_body(port: int, _us: int, stop: threading.Event) -> int:
    size, units = 30 * MIB, 0
    head = (
        "POST /federation/v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    while not stop.is_set():
        with _connect(port, "127.0.0.2") as sock:
            _post_until_answered(sock, head, size // 65536, b"[]," * 21845)
        units += 1
    return units


def chunked_body(port: int, _us: int, stop: threading.Event) -> int:
    units = 0
    head = (
        b"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    while not stop.is_set():
        with _connect(port, "127.0.0.3") as sock:
            _post_until_answered(sock, head, 100_000_000 // 65536, chunk)
        units += 1
    return units


def slowloris(port: int, _us: int, stop: threading.Event) -> int:
    socks: list[socket.socket] = []
    opened = 0
    try:
        while not stop.is_set():
            while len(socks) < 600 and not stop.is_set():
                try:
                    sock = _connect(port, f"127.0.1.{len(socks) % 50 + 1}")
                    sock.sendall(b"POST /federation/v1/envelopes HTTP/1.1\r\nHost: x\r\nX-A: ")
                except OSError:
                    break
                socks.append(sock)
                opened += 1
            for sock in list(socks):
                try:
                    sock.send(b"a")
                except OSError:
                    socks.remove(sock)
                    sock.close()
            stop.wait(0.5)
    finally:
        for sock in socks:
            sock.close()
    return opened


def connection_flood(port: int, _us: int, stop: threading.Event) -> int:
    counts = [0] * 4

    def one(i: int) -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                held.append(_connect(port, "127.0.0.4"))
            except OSError:
                continue
            counts[i] += 1
            if len(held) > 200:
                for sock in held:
                    sock.close()
                held.clear()
        for sock in held:
            sock.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


def login_flood(port: int, _us: int, stop: threading.Event) -> int:
    counts = [0] * 48

    def one(i: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.2.{i % 8 + 1}")
        with httpx.Client(transport=transport, timeout=120) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    client.post(
                        f"http://127.0.0.1:{port}/api/v1/login",
                        json={"user": secrets.token_hex(6), "password": secrets.token_hex(8)},
                    )
                counts[i] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(48)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts)


@dataclass
class Phase:
    name: str
    health_ms: list[float] = field(default_factory=list)
    health_failed: int = 0
    rss: list[int] = field(default_factory=list)
    delivery_ms: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    units: int = 0


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def make_nodes(folder: Path) -> dict[str, NodeProcess]:
    urls = {p: f"http://127.0.0.1:{free_port()}" for p in ("us", "ru")}
    nodes = {
        p: init_node(folder / p, party=p, name_en=p.upper(), endpoints=[urls[p]]) for p in urls
    }
    for node in nodes.values():
        node.auth.add_user("bench", PASSWORD)
    nodes["us"].add_peer(nodes["ru"].identity.card().wire())
    nodes["ru"].add_peer(nodes["us"].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_RETRY_BASE_S="0.1", HOTLINE_RETRY_CAP_S="1", HOTLINE_TICK_S="0.5")
    return {p: NodeProcess(folder / p, urls[p], env, real_hashing=True) for p in urls}


def received_since(folder: Path, texts: set[str]) -> list[float]:
    db = Database(f"sqlite:///{folder / 'ru' / 'hotline.db'}")
    try:
        with db.read() as conn:
            rows = conn.execute(
                select(messages.c.created, messages.c.received_at, messages.c.envelope).where(
                    messages.c.direction == "in", messages.c.type == "text"
                )
            ).all()
    finally:
        db.dispose()
    return [
        (parse_rfc3339(got) - parse_rfc3339(made)).total_seconds() * 1000
        for made, got, envelope in rows
        if any(text in envelope for text in texts)
    ]


def run_phase(
    name: str,
    attack: Attack | None,
    nodes: dict[str, NodeProcess],
    folder: Path,
    token: str,
    seconds: float,
) -> Phase:
    phase = Phase(name)
    ru, us = nodes["ru"], nodes["us"]
    assert ru.process is not None
    pid = ru.process.pid
    ru_port, us_port = (int(n.url.rsplit(":", 1)[1]) for n in (ru, us))
    stop = threading.Event()
    result: list[int] = []
    thread = None
    if attack is not None:
        thread = threading.Thread(target=lambda: result.append(attack(ru_port, us_port, stop)))
    cpu0, rss0 = _cpu(pid), _rss(pid)
    phase.rss.append(rss0)
    if thread:
        thread.start()
    texts: set[str] = set()
    start = time.monotonic()
    next_send = start
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection per probe
    with (
        httpx.Client(
            base_url=us.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as sender,
        httpx.Client(base_url=ru.url, timeout=30, limits=fresh) as prober,
    ):
        while time.monotonic() - start < seconds:
            t0 = time.perf_counter()
            try:
                prober.get("/health").raise_for_status()
                phase.health_ms.append((time.perf_counter() - t0) * 1000)
            except httpx.HTTPError:
                phase.health_failed += 1
            phase.rss.append(_rss(pid))
            if time.monotonic() >= next_send:
                text = f"{name}-{len(texts)}-{secrets.token_hex(4)}"
                sender.post("/api/v1/messages", json={"to": "ru", "text": text})
                texts.add(text)
                next_send += 0.5
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - t0)))
    stop.set()
    if thread:
        thread.join()
    phase.cpu_s = _cpu(pid) - cpu0
    phase.units = result[0] if result else 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        phase.delivery_ms = received_since(folder, texts)
        if len(phase.delivery_ms) >= len(texts):
            break
        time.sleep(0.2)
    phase.rss.append(rss0)
    return phase


def _p(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100)[q - 1]


def report(phases: list[Phase]) -> None:
    rest = phases[0]
    h50, d50 = _p(rest.health_ms, 50), _p(rest.delivery_ms, 50)
    print(
        f"{'phase':<17}{'health p50':>11}{'p99':>9}{'fail':>5}{'RSS peak':>10}{'growth':>8}"
        f"{'deliv p50':>11}{'max':>9}{'n':>4}{'units':>7}{'CPU ms/unit':>12}"
        f"{'health x':>9}{'deliv x':>8}"
    )
    for ph in phases:
        per = ph.cpu_s * 1000 / ph.units if ph.units else float("nan")
        print(
            f"{ph.name:<17}{_p(ph.health_ms, 50):9.1f}ms{_p(ph.health_ms, 99):7.1f}ms"
            f"{ph.health_failed:>5}{max(ph.rss) / MIB:8.0f}Mi"
            f"{(max(ph.rss) - ph.rss[0]) / MIB:6.0f}Mi"
            f"{_p(ph.delivery_ms, 50):9.0f}ms{max(ph.delivery_ms or [float('nan')]):7.0f}ms"
            f"{len(ph.delivery_ms):>4}{ph.units:>7}{per:12.2f}"
            f"{_p(ph.health_ms, 50) / h50:9.1f}{_p(ph.delivery_ms, 50) / d50:8.1f}"
        )
    print(
        f"CPU of ru at rest: {rest.cpu_s * 1000:.0f} ms over the phase; units: requests "
        "(bodies, logins) or connections (slowloris, flood). 2-core machine, attacker, "
        "victim and peer on the same cores."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    attacks: list[tuple[str, Attack | None]] = [
        ("no attack", None),
        ("big body", big_body),
        ("chunked body", chunked_body),
        ("slowloris", slowloris),
        ("connection flood", connection_flood),
        ("login flood", login_flood),
        ("no attack again", None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        nodes = make_nodes(folder)
        for node in nodes.values():
            node.start()
        try:
            token = httpx.post(
                nodes["us"].url + "/api/v1/login",
                json={"user": "bench", "password": PASSWORD},
                timeout=60,
            ).json()["token"]
            phases = [
                run_phase(name, attack, nodes, folder, token, args.seconds)
                for name, attack in attacks
            ]
        finally:
            for node in nodes.values():
                node.stop()
    report(phases)


if __name__ == "__main__":
    main()
