"""The operator API of the evidence capability: the log's state, exchanges, forks seen.

Evidence bundles are exported from the node's folder (``hotline evidence export``), not
over HTTP: a bundle is a file to hand to someone, and needs no running node.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hotline.api.messages import NodeDep, UserDep

router = APIRouter(prefix="/api/v1", tags=["evidence"])


@router.get("/log", summary="The log: size, root, last co-signed checkpoint and its age")
def log_state(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.evidence.state()


@router.post(
    "/log/checkpoint/exchange",
    summary="Sign a checkpoint now and have it co-signed by every peer (or ?peer=)",
)
def exchange(node: NodeDep, user: UserDep, peer: str | None = None) -> dict[str, Any]:
    results = node.evidence.exchange(peer)
    return {"results": results, "ok": all(r["ok"] for r in results)}


@router.get("/log/forks", summary="Rollbacks and forks seen, with both notes and the proof")
def forks(node: NodeDep, user: UserDep, limit: int = 200) -> list[dict[str, Any]]:
    return node.evidence.forks(min(max(limit, 1), 1000))
