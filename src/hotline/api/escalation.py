"""Escalation off the line over the operator API: the checklist of the peer's out-of-band
contacts for one of our messages, and the record of each attempt to reach them
(``services/line/escalation.py``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep
from hotline.responses import Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class AttemptRequest(StrictBody):
    contact: str = Field(
        min_length=1, max_length=65, description="RUNG/CHANNEL on the peer's card, or CHANNEL"
    )
    result: Literal["reached", "no_answer", "busy", "failed"]
    note: str | None = Field(None, min_length=1, max_length=2000)


class Checklist(Out):
    """Where a message's escalation stands: our rung to alert, the peer's contacts with
    their out-of-band channels and the attempts made on each."""

    message_id: str
    peer: str
    precedence: str
    state: str
    deadline: str | None
    overdue: bool
    steps: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    attempts: list[dict[str, Any]]


class Attempt(Out):
    """One attempt, as signed by this node and logged (``log_index``)."""

    message_id: str
    officer: str
    rung: str
    channel: str
    kind: str
    value: str
    result: str
    note: str | None
    at: str
    log_index: int


@router.get(
    "/messages/{message_id}/escalation",
    summary="The escalation checklist of one of our messages (id or its first 6+ characters)",
    response_model=Checklist,
)
def checklist(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.escalation.checklist(node.line.whole_id(message_id))


@router.post(
    "/messages/{message_id}/escalation/attempts",
    summary="Record an attempt to reach the peer off the line (signed, logged)",
    response_model=Attempt,
)
def record_attempt(
    message_id: str, body: AttemptRequest, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.escalation.record(
        node.line.whole_id(message_id),
        contact=body.contact,
        result=body.result,
        note=body.note,
        user=user.name,
    )
