"""Shared by ``test_terminal.py``, ``test_files.py`` and ``test_keys.py``: the ``hotline``
command run as a user runs it (its own process, output captured as bytes), a node "us"
served by a real ``hotline serve`` process, and a hostile peer "ru" whose key the test
holds, so that it can sign whatever a hostile peer would: cards, envelopes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.clock import rfc3339
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.node import init_node
from hotline.protocol import keys
from hotline.protocol.envelope import object_hash, signing_bytes
from hotline.testing import DatabaseFactory, NodeProcess, api, free_port

#: A command line must answer within this (a loaded 2-core machine; not a timing claim).
CLI_TIMEOUT_S = 120
PASSWORD = "a long enough test passphrase"


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: no HOTLINE_* of the test run, a wide terminal
    (Rich wraps at 80 columns when writing to a pipe)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(COLUMNS="200", **extra)
    return env


def hotline(
    *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``hotline ARGS`` in its own process under a permissive umask (022, as many
    shells have), capturing stdout and stderr as bytes."""
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env=env or cli_env(),
        input=input,
        capture_output=True,
        timeout=CLI_TIMEOUT_S,
        umask=0o022,
        check=False,
    )


def now() -> str:
    return rfc3339(datetime.now(UTC))


@dataclass
class HostilePeer:
    """The party "ru", played by the test: it signs what it likes with its own key."""

    key: Ed25519PrivateKey = field(default_factory=keys.generate)
    party: str = "ru"
    head: str = "0" * 64  # hash of the last envelope sent to us
    seq: int = 0

    @property
    def fingerprint(self) -> str:
        return keys.fingerprint(self.key.public_key())

    def card(self, **fields: Any) -> dict[str, Any]:
        """A card signed by this peer's key, with ``fields`` as the peer chose them (not
        validated here: a hostile peer does not run our validation)."""
        phrasebook = Phrasebook.default()
        public = self.key.public_key()
        unsigned: dict[str, Any] = {
            "v": 1,
            "party": self.party,
            "name_en": "Russian Federation",
            "name_ru": "Российская Федерация",
            "lang": "ru",
            "endpoints": ["http://127.0.0.1:9"],
            "public_key": keys.public_b64(public),
            "fingerprint": keys.fingerprint(public),
            "phrasebook_version": phrasebook.version,
            "phrasebook_hash": phrasebook.hash,
            "principals": [],
            "contacts": [],
        } | fields
        return unsigned | {"sig": keys.sign(self.key, signing_bytes(unsigned))}

    def envelope(
        self, text: str, *, signer: Ed25519PrivateKey | None = None, claim: str | None = None
    ) -> dict[str, Any]:
        """The next text envelope to "us" in this channel, signed by ``signer`` (default
        this peer's key) and naming the key ``claim`` (default the signer's)."""
        signer = signer or self.key
        unsigned = {
            "v": 1,
            "id": str(uuid.uuid4()),
            "from": self.party,
            "to": "us",
            "seq": self.seq + 1,
            "prev": self.head,
            "created": now(),
            "precedence": "ROUTINE",
            "type": "text",
            "lang": "ru",
            "body": {"text": text},
            "key": claim or keys.fingerprint(signer.public_key()),
        }
        return unsigned | {"sig": keys.sign(signer, signing_bytes(unsigned))}

    def accepted(self, envelope: dict[str, Any]) -> None:
        """Move the channel on past ``envelope``, which the node stored."""
        self.seq = envelope["seq"]
        self.head = object_hash(envelope)


@dataclass
class Served:
    directory: Path
    url: str
    env: dict[str, str]  # a user's shell for this node, logged in by HOTLINE_USER/PASSWORD

    def deliver(self, *envelopes: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST envelopes to the node's federation API: the status and the answer."""
        with api(self.url) as client:
            answer = client.post("/federation/v1/envelopes", json={"envelopes": list(envelopes)})
        return answer.status_code, answer.json()

    def inbox(self) -> list[dict[str, Any]]:
        with api(self.url) as client:
            login = client.post("/api/v1/login", json={"user": "officer", "password": PASSWORD})
            login.raise_for_status()
            client.headers["Authorization"] = f"Bearer {login.json()['token']}"
            answer = client.get("/api/v1/inbox")
            answer.raise_for_status()
            rows: list[dict[str, Any]] = answer.json()
            return rows


@contextmanager
def served_us(
    tmp_path: Path,
    peer: HostilePeer,
    databases: DatabaseFactory | None = None,
) -> Iterator[Served]:
    """Node "us" with ``peer`` pinned, served by a ``hotline serve`` process; stopped, and
    its database released, whatever happens. Without ``databases`` the node has its own
    SQLite file in its folder, as ``hotline init`` makes it."""
    url = f"http://127.0.0.1:{free_port()}"
    db_url = databases.new("us") if databases is not None else ""
    directory = tmp_path / "us"
    process: NodeProcess | None = None
    try:
        node = init_node(
            directory, party="us", name_en="United States", endpoints=[url], database_url=db_url
        )
        try:
            node.auth.add_user("officer", PASSWORD)
            node.add_peer(peer.card())
        finally:
            node.db.dispose()
        env = cli_env(HOTLINE_USER="officer", HOTLINE_PASSWORD=PASSWORD)
        process = NodeProcess(directory, url, cli_env())
        process.start()
        yield Served(directory, url, env)
    finally:
        if process is not None:
            process.stop()
        if databases is not None:
            databases.release(db_url)
