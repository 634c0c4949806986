"""A node under attack, beside the same node at rest, measured in one run, on TLS.

Two real node processes (``us`` → ``ru``, SQLite, real Argon2) on loopback, as in use:
each serves its federation listener on mutual TLS (client certificate pinned by the
peer's card) and its operator listener (API, console, ``/health``) on TLS. For each
phase — no attack, then each attack on ``ru`` in turn — it prints:

- ``/health`` latency of ``ru``'s operator listener (p50 / p99, a new TLS connection per
  probe, 10 per second);
- ``ru``'s resident memory (peak during the phase, and its growth over the phase's start);
- a legitimate peer's delivery latency (``us`` queues a text every 0.5 s; sender's
  ``created`` to ``ru``'s ``received_at``, p50 / max);
- ``ru``'s CPU time (all threads) per attack unit (one request or connection), and the
  ratio of each latency to the same figure at rest.

Attacks (from 127.0.0.2 and up; the legitimate traffic comes from 127.0.0.1). Those on
the federation listener that send HTTP hold ``us``'s pinned certificate (a hostile or
compromised peer: without one, no request gets past TLS); those on the operator
listener are plain TLS clients (it takes any):

- ``big body``: 30 MiB of ``[]`` posted to ``/federation/v1/envelopes``, declared length
  (federation, as the peer);
- ``chunked body``: 100 MB chunked to ``/api/v1/messages`` (operator);
- ``slowloris``: 600 connections sending half their headers, one byte more every 0.5 s
  (federation, as the peer);
- ``no handshake``: 600 connections to the federation listener that never start TLS,
  reopened when closed (all an attacker without a pinned certificate can do);
- ``connection flood``: 4 threads opening TLS connections to the operator listener from
  one address, as fast as they can;
- ``login flood``: 48 threads logging in with random names and passwords (operator).

Then delivery throughput (as ``bench_line.py``'s sustained figure) with mutual TLS
between the nodes and with plain HTTP on loopback (``allow_plain_http``), same run.

Run: ``.venv/bin/python benchmarks/bench_attacks.py [--seconds 8] [--messages 1000]``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import socket
import ssl
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
from hotline.protocol import tls
from hotline.storage.db import Database
from hotline.storage.tables.core import messages
from hotline.testing import NodeProcess, free_port, tls_node_settings

PASSWORD = "attack-figures-passphrase"  # the policy refuses one holding the user name
MIB = 1024 * 1024
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Target:
    """Where the attacks go: ``ru``'s two listeners, and the TLS clients for each."""

    federation_port: int
    operator_port: int
    operator_url: str
    as_peer: ssl.SSLContext  # us's pinned client certificate, trusting ru's
    operator: ssl.SSLContext  # trusting ru's operator certificate


Attack = Callable[[Target, threading.Event], int]  # (target, stop) → units


def target_of(nodes: dict[str, NodeProcess]) -> Target:
    ru, us = nodes["ru"], nodes["us"]
    verify = ru.verify
    assert isinstance(verify, ssl.SSLContext)
    return Target(
        federation_port=int(ru.federation_url.rsplit(":", 1)[1]),
        operator_port=int(ru.url.rsplit(":", 1)[1]),
        operator_url=ru.url,
        as_peer=tls.client_context(
            tls.load_cert_der(tls.cert_path(ru.directory)),
            tls.cert_path(us.directory),
            tls.key_path(us.directory),
        ),
        operator=verify,
    )


def _connect(port: int, source: str, context: ssl.SSLContext | None = None) -> socket.socket:
    """A TCP connection from ``source``; TLS (handshake done) with ``context``."""
    sock = socket.socket()
    try:
        sock.settimeout(30)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        if context is not None:
            return context.wrap_socket(sock, server_hostname="127.0.0.1")
    except BaseException:
        sock.close()
        raise
    return sock


_WOULD_BLOCK = (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def _post_until_answered(sock: socket.socket, head: bytes, chunks: int, chunk: bytes) -> None:
    sock.sendall(head)
    sock.setblocking(False)
    for _ in range(chunks):
        with contextlib.suppress(*_WOULD_BLOCK):
            if sock.recv(1024):
                return  # answered (413): stop sending
        try:
            sock.setblocking(True)
            sock.sendall(chunk)
            sock.setblocking(False)
        except OSError:
            return


def big_body(target: Target, stop: threading.Event) -> int:
    size, units = 30 * MIB, 0
    head = (
        "POST /federation/v1/envelopes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    while not stop.is_set():
        with _connect(target.federation_port, "127.0.0.2", target.as_peer) as sock:
            _post_until_answered(sock, head, size // 65536, b"[]," * 21845)
        units += 1
    return units


def chunked_body(target: Target, stop: threading.Event) -> int:
    units = 0
    head = (
        b"POST /api/v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"10000\r\n" + b"a" * 65536 + b"\r\n"
    while not stop.is_set():
        with _connect(target.operator_port, "127.0.0.3", target.operator) as sock:
            _post_until_answered(sock, head, 100_000_000 // 65536, chunk)
        units += 1
    return units


def slowloris(target: Target, stop: threading.Event) -> int:
    socks: list[socket.socket] = []
    opened = 0
    try:
        while not stop.is_set():
            while len(socks) < 600 and not stop.is_set():
                try:
                    sock = _connect(
                        target.federation_port, f"127.0.1.{len(socks) % 50 + 1}", target.as_peer
                    )
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


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1024) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def no_handshake(target: Target, stop: threading.Event) -> int:
    socks: list[socket.socket] = []
    opened = 0
    try:
        while not stop.is_set():
            while len(socks) < 600 and not stop.is_set():
                try:
                    sock = _connect(target.federation_port, f"127.0.3.{len(socks) % 50 + 1}")
                except OSError:
                    break
                sock.setblocking(False)
                socks.append(sock)
                opened += 1
            for sock in [s for s in socks if _closed(s)]:
                socks.remove(sock)
                sock.close()
            stop.wait(0.5)
    finally:
        for sock in socks:
            sock.close()
    return opened


def connection_flood(target: Target, stop: threading.Event) -> int:
    counts = [0] * 4

    def one(i: int) -> None:
        held: list[socket.socket] = []
        while not stop.is_set():
            try:
                held.append(_connect(target.operator_port, "127.0.0.4", target.operator))
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


def login_flood(target: Target, stop: threading.Event) -> int:
    counts = [0] * 48

    def one(i: int) -> None:
        transport = httpx.HTTPTransport(
            local_address=f"127.0.2.{i % 8 + 1}", verify=target.operator
        )
        with httpx.Client(transport=transport, timeout=120) as client:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    client.post(
                        f"{target.operator_url}/api/v1/login",
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
    urls = {p: f"https://127.0.0.1:{free_port()}" for p in ("us", "ru")}
    operator = {p: free_port() for p in urls}
    nodes = {
        p: init_node(
            folder / p,
            party=p,
            name_en=p.upper(),
            endpoints=[urls[p]],
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
    env.update(HOTLINE_RETRY_BASE_S="0.1", HOTLINE_RETRY_CAP_S="1", HOTLINE_TICK_S="0.5")
    return {
        p: NodeProcess(
            folder / p,
            f"https://127.0.0.1:{operator[p]}",
            env,
            real_hashing=True,
            federation_url=urls[p],
        )
        for p in urls
    }


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
    target = target_of(nodes)
    stop = threading.Event()
    result: list[int] = []
    thread = None
    if attack is not None:
        thread = threading.Thread(target=lambda: result.append(attack(target, stop)))
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
            base_url=us.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            verify=us.verify,
        ) as sender,
        httpx.Client(base_url=ru.url, timeout=30, limits=fresh, verify=ru.verify) as prober,
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
        "(bodies, logins) or connections (slowloris, no handshake, flood). 2-core machine, "
        "attacker, victim and peer on the same cores. All on TLS (federation: mutual TLS)."
    )


def throughput(folder: Path, messages: int) -> dict[str, float]:
    """Sustained end-to-end messages per second (as bench_line.py), with mutual TLS
    between the nodes and with plain HTTP on loopback: a fresh pair each, same run."""
    import bench_line  # beside this file (benchmarks/ is the script's folder)

    rates = {}
    for name, plain in (("mutual TLS", False), ("plain HTTP", True)):
        where = folder / name.replace(" ", "-")
        where.mkdir()
        nodes = bench_line.make_nodes(where, plain)
        for node in nodes.values():
            node.start()
        try:
            token = httpx.post(
                nodes["us"].url + "/api/v1/login",
                json={"user": "bench", "password": bench_line.PASSWORD},
                timeout=60,
                verify=nodes["us"].verify,
            ).json()["token"]
            rates[name] = bench_line.sustained(where, nodes["us"].url, token, messages, 4)
        finally:
            for node in nodes.values():
                node.stop()
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument(
        "--messages", type=int, default=1000, help="for the TLS/plain throughput; 0: skip"
    )
    args = parser.parse_args()
    attacks: list[tuple[str, Attack | None]] = [
        ("no attack", None),
        ("big body", big_body),
        ("chunked body", chunked_body),
        ("slowloris", slowloris),
        ("no handshake", no_handshake),
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
                verify=nodes["us"].verify,
            ).json()["token"]
            phases = [
                run_phase(name, attack, nodes, folder, token, args.seconds)
                for name, attack in attacks
            ]
        finally:
            for node in nodes.values():
                node.stop()
        report(phases)
        if args.messages:
            rates = throughput(folder, args.messages)
            tls_rate, plain_rate = rates["mutual TLS"], rates["plain HTTP"]
            print(
                f"delivery throughput ({args.messages} messages, 4 senders, us → ru): "
                f"mutual TLS {tls_rate:.0f} msg/s, plain HTTP {plain_rate:.0f} msg/s "
                f"(TLS = {tls_rate / plain_rate:.2f} x plain)"
            )


if __name__ == "__main__":
    main()
