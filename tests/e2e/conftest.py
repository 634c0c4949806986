"""Two nodes as real ``hotline serve`` processes on loopback, on TLS: each federation
listener on mutual TLS with the other's pinned certificate, each operator listener apart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.node import init_node
from hotline.testing import DatabaseFactory, NodeProcess, free_port, tls_node_settings
from tests.conftest import NAMES

PASSWORDS = {"us": "us-test-password", "ru": "ru-test-password"}


@dataclass
class Processes:
    us: NodeProcess
    ru: NodeProcess
    db_urls: dict[str, str]

    def node(self, party: str) -> NodeProcess:
        return self.us if party == "us" else self.ru


@pytest.fixture
def processes(tmp_path: Path, databases: DatabaseFactory) -> Iterator[Processes]:
    urls = {party: f"https://127.0.0.1:{free_port()}" for party in ("us", "ru")}
    operator_ports = {party: free_port() for party in ("us", "ru")}
    db_urls = {party: databases.new(party) for party in ("us", "ru")}
    nodes = {}
    for party in ("us", "ru"):
        name_en, name_ru, lang = NAMES[party]
        nodes[party] = init_node(
            tmp_path / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[urls[party]],
            database_url=db_urls[party],
            settings=tls_node_settings(operator_ports[party]),
        )
        nodes[party].auth.add_user("officer", PASSWORDS[party])
        nodes[party].auth.add_user("commander", PASSWORDS[party], ["commander"])
    nodes["us"].add_peer(nodes["ru"].identity.card().wire())
    nodes["ru"].add_peer(nodes["us"].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_RETRY_CAP_S="2",
        HOTLINE_RETRY_BASE_S="0.1",
        HOTLINE_LINK_TEST_INTERVAL_S="2",
        HOTLINE_LINK_TEST_TIMEOUT_S="3",
        HOTLINE_TICK_S="0.5",
    )
    procs = Processes(
        *(
            NodeProcess(
                tmp_path / party,
                f"https://127.0.0.1:{operator_ports[party]}",
                env,
                federation_url=urls[party],
            )
            for party in ("us", "ru")
        ),
        db_urls,
    )
    yield procs
    procs.us.stop()
    procs.ru.stop()
    for url in db_urls.values():
        databases.release(url)
