"""This node over the operator API: its status, signed card, pinned peers, phrasebook."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, UserDep
from hotline.responses import JsonObject, Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class LogHead(Out):
    size: int
    root: str = Field(description="Merkle root, hex")


class Status(Out):
    party: str
    fingerprint: str
    messages: dict[str, dict[str, int]] = Field(description="direction → state → count")
    peers: list[str]
    log: LogHead
    user: str = Field(description="who asked")


class Peer(Out):
    party: str
    name_en: str
    name_ru: str
    fingerprint: str
    tls_pin: str | None = Field(description="pin of the TLS certificate on its card")
    endpoints: list[str]
    added_at: str
    delivery_failures: int | None = Field(description="none when this process sends nothing")
    last_error: str | None


class PhraseEntry(Out):
    code: int
    en: str
    ru: str


class Phrasebook(Out):
    version: str
    hash: str
    entries: list[PhraseEntry]


@router.get(
    "/status", summary="This node: party, key, message counts, log head", response_model=Status
)
def status(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.line.status() | {"user": user.name}


@router.get(
    "/card",
    summary="This node's signed peer card",
    response_model=JsonObject,
    response_description="the card exactly as signed (docs/protocol.md)",
)
def card(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.identity.card().wire()


@router.get("/peers", summary="Pinned peers and their delivery state", response_model=list[Peer])
def peer_list(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.peer_list()


@router.get(
    "/phrasebook",
    summary="This node's phrasebook: version, hash, every code",
    response_model=Phrasebook,
)
def phrasebook(node: NodeDep, user: UserDep) -> dict[str, Any]:
    book = node.identity.phrasebook
    return {
        "version": book.version,
        "hash": book.hash,
        "entries": [e.model_dump(mode="json") for e in book.entries],
    }
