"""Two real ``hotline serve`` processes on TLS, paired, for the attack tests.

Made as tests/security/test_tls.py and tests/e2e/conftest.py make them: each node has
its federation listener (mutual TLS, the client certificate pinned by the peer's card)
on its https endpoint and its operator listener (TLS, the node's certificate) on a port
of its own. An attacker of the federation listener who gets past TLS holds a pinned
certificate (a hostile or compromised peer): :meth:`Pair.federation_tls` gives the
other party's client context; the operator listener takes any TLS client
(:meth:`Pair.operator_tls`).
"""

from __future__ import annotations

import os
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from hotline.node import init_node
from hotline.protocol import tls
from hotline.testing import HTTP_TIMEOUT_S, NodeProcess, api, free_port, tls_node_settings, wait_for
from tests.conftest import NAMES

PARTIES = ("us", "ru")
PASSWORDS = {"us": "us-test-password", "ru": "ru-test-password"}
#: Liveness bound for ``/health`` during an attack (the issue's target: 1 s; a loaded
#: 2-core CI machine gets five).
LIVE_S = 5.0


def _other(party: str) -> str:
    return "ru" if party == "us" else "us"


@dataclass
class Pair:
    """Two nodes, ``us`` and ``ru``, pinned to each other, each its own process."""

    us: NodeProcess
    ru: NodeProcess
    tokens: dict[str, str] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    _contexts: dict[str, ssl.SSLContext] = field(default_factory=dict, repr=False)

    def node(self, party: str) -> NodeProcess:
        return self.us if party == "us" else self.ru

    def operator_port(self, party: str) -> int:
        return int(urlsplit(self.node(party).url).port or 443)

    def federation_port(self, party: str) -> int:
        return int(urlsplit(self.node(party).federation_url).port or 443)

    def pid(self, party: str) -> int:
        process = self.node(party).process
        assert process is not None
        return process.pid

    def operator_tls(self, party: str) -> ssl.SSLContext:
        """A TLS client of ``party``'s operator listener (no client certificate)."""
        verify = self.node(party).verify
        assert isinstance(verify, ssl.SSLContext)
        return verify

    def federation_tls(self, party: str) -> ssl.SSLContext:
        """A TLS client of ``party``'s federation listener holding the other party's
        pinned certificate (what its peer, hostile or not, connects with; made once: the
        tests here rotate no certificate)."""
        if party not in self._contexts:
            them, me = self.node(party).directory, self.node(_other(party)).directory
            self._contexts[party] = tls.client_context(
                tls.load_cert_der(tls.cert_path(them)), tls.cert_path(me), tls.key_path(me)
            )
        return self._contexts[party]

    def federation(self, party: str, *, timeout: float = HTTP_TIMEOUT_S) -> httpx.Client:
        """An HTTP client of ``party``'s federation listener, as its peer."""
        return httpx.Client(
            base_url=self.node(party).federation_url,
            verify=self.federation_tls(party),
            timeout=timeout,
        )

    def token(self, party: str) -> str:
        if party not in self.tokens:
            with api(self.node(party)) as client:
                answer = client.post(
                    "/api/v1/login", json={"user": "officer", "password": PASSWORDS[party]}
                )
            assert 200 == answer.status_code, answer.text
            self.tokens[party] = answer.json()["token"]
        return self.tokens[party]

    def deliver(self, timeout: float = 90.0) -> float:
        """Send a text us → ru and wait until ru's receipt is back; seconds it took."""
        text = f"legitimate {uuid.uuid4().hex[:8]}"
        start = time.monotonic()
        with api(self.us, self.token("us")) as client:
            answer = client.post("/api/v1/messages", json={"to": "ru", "text": text})
            assert 201 == answer.status_code, answer.text
            message_id = answer.json()["id"]

            def delivered() -> bool:
                shown = client.get(f"/api/v1/messages/{message_id}")
                return shown.json()["state"] in ("delivered", "acknowledged")

            wait_for(delivered, f"delivery of {message_id} to ru", timeout=timeout)
        self.sent.append(text)
        return time.monotonic() - start

    def healthy(self, party: str) -> None:
        """``/health`` answers 200 within :data:`LIVE_S` on both listeners of ``party``
        (each on a new TLS connection; the federation one as its peer)."""
        node = self.node(party)
        answer = httpx.get(node.url + "/health", timeout=LIVE_S, verify=node.verify)
        assert 200 == answer.status_code
        with self.federation(party, timeout=LIVE_S) as client:
            answer = client.get("/health")
            assert 200 == answer.status_code, answer.text

    def texts_received(self) -> list[str]:
        """Every text ``ru`` stored: exactly the legitimate ones, whatever was attacked."""
        with api(self.ru, self.token("ru")) as client:
            rows = client.get("/api/v1/inbox", params={"limit": 5000}).json()
        return sorted(row["body"]["text"] for row in rows if row["type"] == "text")

    def start(self) -> None:
        self.us.start()
        self.ru.start()

    def stop(self) -> None:
        self.us.stop()
        self.ru.stop()


def make_pair(root: Path, env: dict[str, str] | None = None, **settings: str) -> Pair:
    """A TLS pair in ``root`` (not started): ``env`` adds to the processes' environment,
    ``settings`` are node settings passed as ``HOTLINE_<NAME>`` variables."""
    endpoints = {party: f"https://127.0.0.1:{free_port()}" for party in PARTIES}
    operator_ports = {party: free_port() for party in PARTIES}
    nodes = {}
    for party in PARTIES:
        name_en, name_ru, lang = NAMES[party]
        nodes[party] = init_node(
            root / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[endpoints[party]],
            settings=tls_node_settings(operator_ports[party]),
        )
        nodes[party].auth.add_user("officer", PASSWORDS[party])
    nodes["us"].add_peer(nodes["ru"].identity.card().wire())
    nodes["ru"].add_peer(nodes["us"].identity.card().wire())
    for node in nodes.values():
        node.db.dispose()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ.update(env or {})
    environ.update({f"HOTLINE_{name.upper()}": value for name, value in settings.items()})
    processes = {
        party: NodeProcess(
            root / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            environ,
            federation_url=endpoints[party],
        )
        for party in PARTIES
    }
    return Pair(processes["us"], processes["ru"])
