"""Incident cases over the operator API: the list, and one case with its differences.

Accounts are sent as notices (``POST /api/v1/notices`` with an ``incident_account``
body): rules, renderings and the two-person rule for FLASH apply as to any notice.
A case is folded from the signed accounts both nodes hold, so ``GET /api/v1/cases/{id}``
answers the same JSON on both nodes (see ``docs/cases.md``).
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field

from hotline.api.deps import NodeDep, Precedence, StrictBody, UserDep
from hotline.api.notices import NoticeSent
from hotline.api.schemas import HELD
from hotline.responses import JsonObject, Out, TypedRouter
from hotline.services.attachments.casefiles import DEFAULT_MINUTES, DEFAULT_RADIUS_NM

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
    contested: bool = Field(description="both sides sent an account opening this case id")


class CaseView(Out):
    id: str
    title: str | None
    opened_by: str
    other: str
    opened_at: str
    opened_from: JsonObject
    opening_message: str = Field(description="the account that opened the case (joins names it)")
    contested: bool = Field(
        description="both sides opened this case id (neither joined the other): both "
        "openings stand; opened_by is then the first party name in alphabetical order"
    )
    openings: dict[str, str] = Field(description="per party that opened the case, its account")
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
    files: dict[str, JsonObject] = Field(
        description="per SHA-256 of a file any account version carries (versions list them "
        "under attachments: sha256, name, content_type, size, as signed), its state on this "
        "node: state (verified, fetching, refused or missing), detail, link (when verified)"
    )
    track_comparison: JsonObject | None = Field(
        description="both sides' track histories compared (null until both current "
        "accounts carry one and both are here whole): exports, tolerance_s, tracks (per "
        "track in both: compared, max_m, max_nm, mean_m, points), only"
    )


class TracksAttach(StrictBody):
    radius_nm: float = Field(DEFAULT_RADIUS_NM, gt=0, le=3000)
    minutes: int = Field(DEFAULT_MINUTES, ge=0, le=24 * 60)
    precedence: Precedence = "IMMEDIATE"


@router.get("/cases", summary="Incident cases, newest first", response_model=list[CaseSummary])
def case_list(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.cases.listing()


@router.get(
    "/cases/{case_id}",
    summary="One incident case: both accounts, every version, the differences",
    response_model=CaseView,
)
def case_show(case_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.casefiles.show(case_id)


@router.get(
    "/cases/{case_id}/tracks",
    summary="This node's recorded tracks around the case's events, as GeoJSON",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def case_tracks(
    case_id: str,
    node: NodeDep,
    user: UserDep,
    radius_nm: float = Query(DEFAULT_RADIUS_NM, description="NM around each event"),
    minutes: int = Query(DEFAULT_MINUTES, description="before the first, after the last event"),
) -> Response:
    """Deterministic: the same record and parameters give the same bytes (docs/cases.md)."""
    name, data = node.casefiles.track_history(case_id, radius_nm, minutes)
    return Response(
        data,
        media_type="application/geo+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/cases/{case_id}/tracks",
    status_code=201,
    summary="Attach our track history to our account: a new version, same statements",
    response_model=NoticeSent,
    responses=HELD,
)
def case_tracks_attach(case_id: str, body: TracksAttach, node: NodeDep, user: UserDep) -> Any:
    to, notice, refs = node.casefiles.tracks_account(case_id, body.radius_nm, body.minutes)
    if node.held.required(body.precedence):
        held = node.held.hold(
            "notice",
            to=to,
            payload={"notice": notice, "attachments": refs},
            precedence=body.precedence,
            lang=None,
            user=user.name,
        )
        return JSONResponse(held, status_code=202)
    return node.notices.send(
        to, notice, precedence=body.precedence, lang=None, user=user.name, attachments=refs
    )
