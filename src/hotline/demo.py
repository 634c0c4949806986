"""``hotline demo``: two real node processes (us, ru) talking on loopback, on SQLite.

The scenario: create both nodes, exchange and pin their cards (each carries the node's
TLS certificate), start each as its own ``hotline serve`` process (the federation
listener on mutual TLS, the operator listener on TLS, on two ports), send messages both
ways (the ``ru`` node writes in Russian), acknowledge every one on the receiving side,
and wait until each sender sees its messages delivered and acknowledged.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from hotline.client import NodeClient, Verify
from hotline.errors import HotlineError
from hotline.node import init_node

MARKER = ".hotline-demo"
SCENARIO: dict[str, list[tuple[str, str]]] = {
    "us": [
        ("FLASH", "Test of the deconfliction line. Acknowledge on receipt."),
        ("IMMEDIATE", "Air operations over the sector from 0600Z. Volumes follow."),
        ("ROUTINE", "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG 0123456789"),
    ],
    "ru": [
        ("FLASH", "Проверка линии деконфликтинга. Подтвердите получение."),
        ("PRIORITY", "Учения флота в указанном районе с 0800Z. Просим подтвердить."),
        ("ROUTINE", "СЪЕШЬ ЖЕ ЕЩЁ ЭТИХ МЯГКИХ ФРАНЦУЗСКИХ БУЛОК, ДА ВЫПЕЙ ЧАЮ 0123456789"),
    ],
}


@dataclass(frozen=True)
class DemoNode:
    party: str
    name_en: str
    name_ru: str
    lang: str
    user: str
    password: str
    second: str  # the second officer on watch, who approves FLASH messages (two-person rule)


NODES = (
    DemoNode(
        "us", "United States", "Соединённые Штаты Америки", "en", "officer", "us-demo-pass",
        "officer2",
    ),
    DemoNode(
        "ru", "Russian Federation", "Российская Федерация", "ru", "ofitser", "ru-demo-pass",
        "ofitser2",
    ),
)  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(workdir: Path) -> dict[str, str]:
    """Create both nodes and pin each other's cards; return their operator URLs."""
    if workdir.exists():
        if not (workdir / MARKER).exists():
            raise HotlineError(f"{workdir} exists and is not a demo folder; choose another --dir")
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    (workdir / MARKER).write_text("made by hotline demo; deleted by the next run\n")
    endpoints = {n.party: f"https://127.0.0.1:{free_port()}" for n in NODES}
    operator = {n.party: free_port() for n in NODES}
    nodes = {
        n.party: init_node(
            workdir / n.party,
            party=n.party,
            name_en=n.name_en,
            name_ru=n.name_ru,
            lang=n.lang,
            endpoints=[endpoints[n.party]],
            settings={"operator_listen": f"127.0.0.1:{operator[n.party]}"},
        )
        for n in NODES
    }
    for spec in NODES:
        node = nodes[spec.party]
        node.auth.add_user(spec.user, spec.password, ["officer"])
        node.auth.add_user(spec.second, spec.password, ["officer"])
        for other in NODES:
            if other.party != spec.party:
                node.add_peer(nodes[other.party].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    return {n.party: f"https://127.0.0.1:{operator[n.party]}" for n in NODES}


def trusted(workdir: Path, party: str) -> Verify:
    """Exactly the demo node's own operator certificate."""
    from hotline.protocol import tls

    return tls.trust_context(tls.cert_path(workdir / party))


def start(workdir: Path, party: str) -> subprocess.Popen[bytes]:
    log = open(workdir / f"{party}.log", "ab")  # noqa: SIM115 - lives as long as the process
    env = dict(os.environ, HOTLINE_DIR=str(workdir / party))
    return subprocess.Popen(
        [sys.executable, "-m", "hotline", "serve"], stdout=log, stderr=log, env=env
    )


#: How long the demo waits for its nodes to start, deliver and acknowledge (s): generous,
#: since a first start on a fresh or busy machine is slow (imports, TLS keys, migrations).
WAIT_S = 120.0


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except HotlineError:
            pass
        time.sleep(0.2)
    raise HotlineError(f"timed out after {timeout:.0f} s waiting for {what}")


def play(clients: dict[str, NodeClient], seconds: dict[str, NodeClient], console: Console) -> bool:
    sent: dict[str, list[str]] = {}
    for spec in NODES:
        other = next(n.party for n in NODES if n.party != spec.party)
        sent[spec.party] = []
        for precedence, text in SCENARIO[spec.party]:
            row = clients[spec.party].post(
                "/api/v1/messages", {"to": other, "text": text, "precedence": precedence}
            )
            if row.get("state") == "held":  # FLASH: the second officer approves it
                console.print(
                    f"{spec.party}: FLASH held for a second approval; {spec.second} approves it"
                )
                row = seconds[spec.party].post(f"/api/v1/held/{row['id']}/approve")
                sent[spec.party].append(row["message_id"])
            else:
                sent[spec.party].append(row["id"])
    total = sum(len(v) for v in sent.values())

    def inbox_ids(party: str) -> set[str]:
        return {row["id"] for row in clients[party].get("/api/v1/inbox")}

    wait_until(lambda: sum(len(inbox_ids(n.party)) for n in NODES) >= total, WAIT_S, "delivery")
    for spec in NODES:
        for message_id in sorted(inbox_ids(spec.party)):
            clients[spec.party].post(f"/api/v1/messages/{message_id}/ack")

    def all_acknowledged() -> bool:
        return all(
            clients[p].get(f"/api/v1/messages/{i}")["state"] == "acknowledged"
            for p, ids in sent.items()
            for i in ids
        )

    wait_until(all_acknowledged, WAIT_S, "acknowledgements")
    report(clients, sent, console)
    return True


def report(clients: dict[str, NodeClient], sent: dict[str, list[str]], console: Console) -> None:
    table = Table(title="the line")
    for name in ("route", "precedence", "state", "ack by"):
        table.add_column(name, no_wrap=True)
    table.add_column("text", no_wrap=True, overflow="ellipsis", max_width=24)
    for party, ids in sent.items():
        for message_id in ids:
            row: dict[str, Any] = clients[party].get(f"/api/v1/messages/{message_id}")
            table.add_row(
                f"{party}→{row['peer']}",
                row["precedence"],
                row["state"],
                row["acked_by"] or "",
                row["body"]["text"],
            )
    console.print(table)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def watch(processes: dict[str, subprocess.Popen[bytes]], console: Console) -> int:
    """Wait for Ctrl-C (or SIGTERM); report a node that dies on its own."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            for party, process in processes.items():
                if process.poll() is not None:
                    console.print(f"[bold red]node {party} stopped[/] (exit {process.returncode})")
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0


def run_demo(workdir: Path, *, once: bool, console: Console) -> int:
    workdir = workdir.expanduser().resolve()
    urls = prepare(workdir)
    processes = {n.party: start(workdir, n.party) for n in NODES}
    clients = {n.party: NodeClient(urls[n.party], verify=trusted(workdir, n.party)) for n in NODES}
    seconds = {n.party: NodeClient(urls[n.party], verify=trusted(workdir, n.party)) for n in NODES}
    try:
        for spec in NODES:
            client = clients[spec.party]
            wait_until(lambda c=client: c.get("/health")["status"] == "ok", WAIT_S, "the nodes")  # type: ignore[misc]
            client.login(spec.user, spec.password)
            seconds[spec.party].login(spec.second, spec.password)
        ok = play(clients, seconds, console)
        for spec in NODES:
            console.print(
                f"node [bold]{spec.party}[/]: console {urls[spec.party]}/console  login "
                f"{spec.user} / {spec.password}  (folder {workdir / spec.party})",
                soft_wrap=True,
            )
        if once:
            return 0 if ok else 1
        console.print("Both nodes keep running; press Ctrl-C to stop them.")
        return watch(processes, console)
    except HotlineError as exc:
        console.print(f"[bold red]demo failed:[/] {exc.message}  (logs in {workdir})")
        return 1
    finally:
        for client in [*clients.values(), *seconds.values()]:
            client.close()
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=20)
