"""Incident cases over the operator API: the list, and one case with its differences.

Accounts are sent as notices (``POST /api/v1/notices`` with an ``incident_account``
body): rules, renderings and the two-person rule for FLASH apply as to any notice.
A case is folded from the signed accounts both nodes hold, so ``GET /api/v1/cases/{id}``
answers the same JSON on both nodes (see ``docs/cases.md``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, UserDep
from hotline.responses import JsonObject, Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class CaseSummary(Out):
    id: str = Field(description="the case's UUID, chosen by the side that opened it")
    title: str | None
    opened_by: str = Field(description="the party whose account opened the case")
    other: str = Field(description="the other party of the case")
    opened_at: str = Field(description="when the opening account was signed")
    opened_from: JsonObject = Field(description="{kind, ref}: report, conflict, incursion, alarm")
    versions: dict[str, int] = Field(description="per party, how many versions of its account")
    rejected: int = Field(description="accounts that contradict the case, kept aside")


class CaseView(Out):
    id: str
    title: str | None
    opened_by: str
    other: str
    opened_at: str
    opened_from: JsonObject
    opening_message: str = Field(description="the account that opened the case (joins names it)")
    accounts: dict[str, JsonObject] = Field(
        description="per party: current (its version number, 0: none yet) and versions "
        "(oldest first: version, message_id, created, body)"
    )
    differences: JsonObject | None = Field(
        description="both sides' current accounts compared (null until both have stated "
        "one): both (per event stated by both: time_delta_s, distance_m, distance_nm, "
        "height_delta_m) and only (events one side alone stated)"
    )
    rejected: list[JsonObject] = Field(description="message_id, from, created, reason")
    message_ids: list[str] = Field(description="the case's messages: origin report, accounts")


@router.get("/cases", summary="Incident cases, newest first", response_model=list[CaseSummary])
def case_list(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.cases.listing()


@router.get(
    "/cases/{case_id}",
    summary="One incident case: both accounts, every version, the differences",
    response_model=CaseView,
)
def case_show(case_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.cases.show(case_id)
