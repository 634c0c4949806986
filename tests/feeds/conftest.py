"""A running in-process node (active: it runs the feeds) and tiny senders on real sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.node import Node
from hotline.testing import free_port, wait_for
from tests.conftest import MakeNode

DATA = Path(__file__).parent / "data"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def live(make_node: MakeNode) -> Iterator[Node]:
    """A node that serves as its own active process (its runner runs the feed manager)."""
    node = make_node("us")
    node.start()
    wait_for(lambda: node.active, "the node to become active", timeout=60)
    yield node  # make_node stops it


def tracks(node: Node) -> dict[str, dict[str, Any]]:
    return {t["id"]: t for t in node.tracks.assess()["tracks"]}


def health(node: Node, name: str) -> dict[str, Any]:
    return {f["name"]: f for f in node.feeds.listing()}[name]["health"] or {}


def wait_health(node: Node, name: str, what: str, check: Any) -> dict[str, Any]:
    return wait_for(
        lambda: (h := health(node, name)) and check(h) and h, f"feed {name}: {what}", timeout=90
    )


class TcpServer:
    """A receiver's port (dump1090's 30003): accepts the node and sends it what it is given."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.server.settimeout(0.2)
        self.clients: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.clients.append(client)

    def send(self, payload: bytes) -> None:
        wait_for(lambda: self.clients, "the node to connect", timeout=90)
        self.clients[-1].sendall(payload)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for client in self.clients:
            client.close()
        self.server.close()


@pytest.fixture
def tcp_server() -> Iterator[TcpServer]:
    server = TcpServer()
    yield server
    server.close()
