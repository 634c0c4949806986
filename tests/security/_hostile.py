"""Shared by ``test_terminal.py``, ``test_files.py`` and ``test_keys.py``: the ``hotline``
command run as a user runs it (its own process, output captured as bytes), a node "us"
served by a real ``hotline serve`` process on TLS (see ``conftest.py``), and a hostile
peer "ru" whose keys the test holds, so that it can sign whatever a hostile peer would:
cards, envelopes, and present its pinned TLS certificate to "us"'s federation listener.
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

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.clock import rfc3339
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.protocol import keys, tls
from hotline.protocol.envelope import object_hash, signing_bytes
from hotline.testing import DatabaseFactory, NodeProcess, api
from tests.security.conftest import federation_client, tls_node

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


@dataclass(frozen=True)
class PeerTls:
    """A peer's TLS key and self-signed certificate (PEM), made in memory."""

    key_pem: bytes
    cert_pem: bytes

    @classmethod
    def make(cls, party: str = "ru") -> PeerTls:
        return cls(*tls.make_certificate(["127.0.0.1"], party))

    @property
    def der(self) -> bytes:
        certificate = x509.load_pem_x509_certificate(self.cert_pem)
        return certificate.public_bytes(serialization.Encoding.DER)

    def card_fields(self) -> dict[str, str]:
        return {"tls_cert": tls.cert_b64(self.der), "tls_pin": tls.pin(self.der)}

    def write(self, directory: Path) -> tuple[Path, Path]:
        """The certificate and key as files in ``directory`` (for an SSL context)."""
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        cert, key = directory / "peer-tls.crt", directory / "peer-tls.key"
        cert.write_bytes(self.cert_pem)
        key.touch(mode=0o600)  # private before the key is in it
        key.write_bytes(self.key_pem)
        return cert, key


@dataclass
class HostilePeer:
    """The party "ru", played by the test: it signs what it likes with its own key, and
    its card pins its own TLS certificate (``tls``; a new signing key can keep it)."""

    key: Ed25519PrivateKey = field(default_factory=keys.generate)
    party: str = "ru"
    head: str = "0" * 64  # hash of the last envelope sent to us
    seq: int = 0
    tls: PeerTls = field(default_factory=PeerTls.make)

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
            "endpoints": ["https://127.0.0.1:9"],
            "public_key": keys.public_b64(public),
            "fingerprint": keys.fingerprint(public),
            "phrasebook_version": phrasebook.version,
            "phrasebook_hash": phrasebook.hash,
            "principals": [],
            "contacts": [],
            **self.tls.card_fields(),
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
    process: NodeProcess
    env: dict[str, str]  # a user's shell for this node, logged in by HOTLINE_USER/PASSWORD
    peer_files: tuple[Path, Path]  # the hostile peer's pinned TLS certificate and key

    @property
    def directory(self) -> Path:
        return self.process.directory

    @property
    def url(self) -> str:
        """The operator listener's URL."""
        return self.process.url

    def deliver(self, *envelopes: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST envelopes to the node's federation listener as the peer (mutual TLS with
        the peer's pinned certificate): the status and the answer."""
        with federation_client(self.process, *self.peer_files) as client:
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
    """Node "us" on TLS with ``peer`` pinned (its card, with its TLS certificate), served
    by a ``hotline serve`` process; stopped, and its database released, whatever happens.
    Without ``databases`` the node has its own SQLite file in its folder, as ``hotline
    init`` makes it."""
    db_url = databases.new("us") if databases is not None else ""
    process: NodeProcess | None = None
    try:
        node, made = tls_node(tmp_path / "us", "us", cli_env(), database_url=db_url)
        try:
            node.auth.add_user("officer", PASSWORD)
            node.add_peer(peer.card())
        finally:
            node.db.dispose()
        env = cli_env(HOTLINE_USER="officer", HOTLINE_PASSWORD=PASSWORD)
        peer_files = peer.tls.write(tmp_path / f"{peer.party}-tls")
        process = made
        process.start()
        yield Served(process, env, peer_files)
    finally:
        if process is not None:
            process.stop()
        if databases is not None:
            databases.release(db_url)
