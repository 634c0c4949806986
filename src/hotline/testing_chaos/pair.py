"""Two nodes, each behind the proxy its card names, started and logged in."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hotline.clock import OffsetClock
from hotline.testing import (
    DatabaseFactory,
    NodeProcess,
    api,
    free_port,
    tls_node_settings,
)
from hotline.testing_chaos.plan import NAMES, NODE_ENV, PARTIES, PASSWORD, USERS
from hotline.testing_chaos.proxy import LinkProxy


@dataclass
class ChaosPair:
    """Two nodes, each behind the proxy that its card names."""

    root: Path
    nodes: dict[str, NodeProcess]
    proxies: dict[str, LinkProxy]  # by the party the proxied direction leads to
    offset_files: dict[str, Path]
    db_urls: dict[str, str]
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def login(self) -> None:
        for party in PARTIES:
            for user in USERS:
                with api(self.nodes[party]) as client:
                    answer = client.post(
                        "/api/v1/login",
                        json={
                            "user": user,
                            "password": PASSWORD.format(party=party, number=USERS.index(user)),
                        },
                    )
                answer.raise_for_status()
                self.tokens[party, user] = answer.json()["token"]

    def client(self, party: str, user: str = "officer") -> httpx.Client:
        return api(self.nodes[party], self.tokens[party, user])

    def heal(self) -> None:
        for proxy in self.proxies.values():
            proxy.heal()
        for path in self.offset_files.values():
            OffsetClock.write(path, 0)

    def close(self) -> None:
        """Stop both nodes and both proxies (safe to call twice)."""
        for node in self.nodes.values():
            with contextlib.suppress(Exception):
                node.stop()
        for proxy in self.proxies.values():
            with contextlib.suppress(Exception):
                proxy.close()
        self.proxies = {}


def get_json(pair: ChaosPair, party: str, path: str, **params: Any) -> Any:
    """GET ``path`` from ``party``'s API as the officer; the answer's JSON (4xx, 5xx raise)."""
    with pair.client(party) as client:
        answer = client.get(path, params=params, timeout=30)
    answer.raise_for_status()
    return answer.json()


def make_pair(root: Path, databases: DatabaseFactory) -> ChaosPair:
    """Two fresh nodes in ``root`` with databases from ``databases``, paired through proxies
    (started: proxies and nodes), their officers logged in."""
    from hotline.node import init_node

    proxy_ports = {party: free_port() for party in PARTIES}
    listen_ports = {party: free_port() for party in PARTIES}
    operator_ports = {party: free_port() for party in PARTIES}
    db_urls = {party: databases.new(f"chaos-{party}") for party in PARTIES}
    made = {}
    for party in PARTIES:
        name_en, name_ru, lang = NAMES[party]
        settings = tls_node_settings(operator_ports[party])
        settings["federation_listen"] = f"127.0.0.1:{listen_ports[party]}"
        made[party] = init_node(
            root / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[f"https://127.0.0.1:{proxy_ports[party]}"],  # the peer dials the proxy
            database_url=db_urls[party],
            settings=settings,
        )
        for user in USERS:
            made[party].auth.add_user(user, PASSWORD.format(party=party, number=USERS.index(user)))
    made["us"].add_peer(made["ru"].identity.card().wire())
    made["ru"].add_peer(made["us"].identity.card().wire())
    for node in made.values():
        node.db.dispose()
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    base.update(NODE_ENV)
    offsets = {party: root / f"{party}-clock-offset" for party in PARTIES}
    nodes = {}
    for party in PARTIES:
        OffsetClock.write(offsets[party], 0)
        env = base | {OffsetClock.ENV: str(offsets[party])}
        nodes[party] = NodeProcess(
            root / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            env,
            federation_url=f"https://127.0.0.1:{listen_ports[party]}",
        )
    proxies = {p: LinkProxy(proxy_ports[p], listen_ports[p]).start() for p in PARTIES}
    pair = ChaosPair(root, nodes, proxies, offsets, db_urls)
    try:
        for process in nodes.values():
            process.start()
        pair.login()
    except BaseException:
        pair.close()
        raise
    return pair


@contextlib.contextmanager
def databases_for(backend: str, root: Path) -> Iterator[DatabaseFactory]:
    """A database factory for a run outside the test suite, its databases dropped after."""
    root.mkdir(parents=True, exist_ok=True)
    factory = DatabaseFactory(backend, root)
    try:
        yield factory
    finally:
        factory.drop_all()
