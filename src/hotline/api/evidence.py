"""The operator API of the evidence capability: the log's state, exchanges, forks seen.

Evidence bundles are exported from the node's folder (``hotline evidence export``), not
over HTTP: a bundle is a file to hand to someone, and needs no running node.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, UserDep
from hotline.responses import ErrorDetail, Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["evidence"])


class Cosigned(Out):
    cosigner: str
    size: int
    root: str
    checkpoint: str = Field(description="the checkpoint note with both signatures, as signed")
    cosigned_at: str
    age_s: int


class LogState(Out):
    origin: str
    size: int
    root: str
    last_cosigned: Cosigned | None
    cosigned_by: list[Cosigned]
    forks: int


class ExchangeResult(Out):
    peer: str
    size: int
    root: str
    ok: bool
    checkpoint: str | None = Field(None, description="co-signed note (when ok)")
    error: ErrorDetail | None


class Exchange(Out):
    results: list[ExchangeResult]
    ok: bool = Field(description="every peer co-signed")


class Fork(Out):
    id: int
    log: str = Field(description="whose log")
    kind: str = Field(description="rollback | fork | damaged | refused")
    detected_at: str
    old_size: int | None
    new_size: int | None
    old_note: str | None
    new_note: str | None
    proof: Any = Field(description="the consistency proof that failed (JSON), if any")
    detail: str


@router.get(
    "/log",
    summary="The log: size, root, last co-signed checkpoint and its age",
    response_model=LogState,
)
def log_state(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.evidence.state()


@router.post(
    "/log/checkpoint/exchange",
    summary="Sign a checkpoint now and have it co-signed by every peer (or ?peer=)",
    response_model=Exchange,
)
def exchange(node: NodeDep, user: UserDep, peer: str | None = None) -> dict[str, Any]:
    results = node.evidence.exchange(peer)
    return {"results": results, "ok": all(r["ok"] for r in results)}


@router.get(
    "/log/forks",
    summary="Rollbacks and forks seen, with both notes and the proof",
    response_model=list[Fork],
)
def forks(node: NodeDep, user: UserDep, limit: int = 200) -> list[dict[str, Any]]:
    return node.evidence.forks(min(max(limit, 1), 1000))
