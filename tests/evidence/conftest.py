"""Helpers for the evidence tests: a conversation, log rewrites, and one sample bundle.

The sample bundle is built once per session on SQLite (two real nodes, real HTTP): the
tests that only read a bundle need no backend, so they run once, not once per backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from hotline.app import create_app
from hotline.clock import FakeClock
from hotline.node import Node, init_node
from hotline.protocol import merkle
from hotline.services.evidence.bundle import export_bundle
from hotline.storage.tables.core import log_entries, log_state
from hotline.storage.tables.evidence import cosigned_checkpoints, log_checkpoints
from hotline.testing import HTTP_TIMEOUT_S, DatabaseFactory, ServerThread, free_port, serving
from tests.conftest import Pair


def converse(pair: Pair, text: str = "Test of the line. Подтвердите.") -> str:
    """us sends a message, ru receives and acknowledges it, us gets the acknowledgement."""
    sent = pair.us.line.send(to="ru", text=text, precedence="FLASH", user="duty1")
    pair.flush()
    pair.ru.line.acknowledge(sent["id"], "ofitser")
    pair.flush()
    return str(sent["id"])


def entries(node: Node) -> list[tuple[int, bytes, bytes]]:
    with node.db.read() as conn:
        rows = conn.execute(
            select(log_entries.c.idx, log_entries.c.entry, log_entries.c.leaf_hash).order_by(
                log_entries.c.idx
            )
        )
        return [(int(i), bytes(e), bytes(h)) for i, e, h in rows]


def edit_entry(node: Node, index: int, *, rehash: bool) -> None:
    """Change one byte of entry ``index``; with ``rehash``, its leaf hash too."""
    entry = next(e for i, e, _h in entries(node) if i == index)
    changed = entry.replace(b'"seq":1', b'"seq":7', 1)
    assert changed != entry
    values: dict[str, bytes] = {"entry": changed}
    if rehash:
        values["leaf_hash"] = merkle.leaf_hash(changed)
    with node.db.write() as conn:
        conn.execute(update(log_entries).where(log_entries.c.idx == index).values(**values))


def remove_entry(node: Node, index: int, *, renumber: bool) -> None:
    """Delete entry ``index``; with ``renumber``, close the gap as if it never was."""
    with node.db.write() as conn:
        conn.execute(delete(log_entries).where(log_entries.c.idx == index))
        if renumber:
            later = conn.execute(
                select(log_entries.c.idx)
                .where(log_entries.c.idx > index)
                .order_by(log_entries.c.idx)
            ).scalars()
            for old in list(later):
                conn.execute(
                    update(log_entries).where(log_entries.c.idx == old).values(idx=old - 1)
                )


def rebuild_state(node: Node) -> None:
    """Make log_state agree with the rows as they now stand (a thorough forger)."""
    frontier = merkle.Frontier.from_leaf_hashes(h for _i, _e, h in entries(node))
    hexes = json.dumps([h.hex() for h in frontier.to_list()])
    with node.db.write() as conn:
        conn.execute(update(log_state).values(size=frontier.size, frontier=hexes))


def forget_checkpoints(node: Node) -> None:
    """Delete every checkpoint the node signed or had co-signed of its own log."""
    with node.db.write() as conn:
        conn.execute(delete(log_checkpoints))
        conn.execute(
            delete(cosigned_checkpoints).where(cosigned_checkpoints.c.log == node.identity.party)
        )


@dataclass(frozen=True)
class Sample:
    """A bundle exported by us for one acknowledged message, and what made it."""

    raw: bytes
    message_id: str
    us_key: Ed25519PrivateKey
    ru_key: Ed25519PrivateKey
    fingerprints: dict[str, str]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    """One real bundle (SQLite, two nodes over real HTTP), shared by the read-only tests."""
    root = tmp_path_factory.mktemp("sample-bundle")
    databases = DatabaseFactory("sqlite", root)
    clock = FakeClock()
    ports = {"us": free_port(), "ru": free_port()}
    nodes = {}
    for party, name in (("us", "United States"), ("ru", "Russian Federation")):
        made = init_node(
            root / party,
            party=party,
            name_en=name,
            lang="en" if party == "us" else "ru",
            endpoints=[f"http://127.0.0.1:{ports[party]}"],
            database_url=databases.new(party),
            allow_plain_http=True,  # in-process servers on plain HTTP, loopback
        )
        made.db.dispose()
        nodes[party] = Node(made.settings, clock)
    us, ru = nodes["us"], nodes["ru"]
    us.add_peer(ru.identity.card().wire())
    ru.add_peer(us.identity.card().wire())
    with (
        serving(
            ServerThread(create_app(us, start_workers=False), ports["us"]),
            ServerThread(create_app(ru, start_workers=False), ports["ru"]),
        ),
        httpx.Client(timeout=HTTP_TIMEOUT_S) as http,
    ):
        pair = Pair(us, ru, {}, http)
        message_id = converse(pair, "Unannounced launch at 04:10Z.\nЗапуск в 04:10Z.")
        clock.advance(60)
        us.evidence.exchange()
        raw = export_bundle(us.evidence, message_id)
        yield Sample(
            raw,
            message_id,
            us.identity.key,
            ru.identity.key,
            {"us": us.identity.fingerprint, "ru": ru.identity.fingerprint},
        )


def write(tmp: Path, raw: bytes, name: str = "bundle.json") -> Path:
    path = tmp / name
    path.write_bytes(raw)
    return path
