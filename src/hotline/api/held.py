"""FLASH items held for a second person's approval, over the operator API."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep
from hotline.api.schemas import Held
from hotline.responses import TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class RejectRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


@router.get(
    "/held",
    summary="FLASH messages held for a second approval (state=held|sent|…)",
    response_model=list[Held],
)
def held_list(node: NodeDep, user: UserDep, state: str | None = "held") -> list[dict[str, Any]]:
    return node.held.listing(None if state == "all" else state)


@router.post(
    "/held/{held_id}/approve",
    summary="Approve a held FLASH message: it is sent",
    response_model=Held,
)
def held_approve(held_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.held.approve(held_id, user.name)


@router.post(
    "/held/{held_id}/reject", summary="Reject a held FLASH message, saying why", response_model=Held
)
def held_reject(held_id: str, body: RejectRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.held.reject(held_id, user.name, body.reason)
