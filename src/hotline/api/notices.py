"""Formatted notices over the operator API: check, send, their schemas; declared volumes
and the conflicts between them."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import Field

from hotline.api.deps import Lang, NodeDep, Precedence, StrictBody, UserDep
from hotline.api.messages import AttachmentChoice
from hotline.api.schemas import HELD, Message, Rendering
from hotline.clock import parse_rfc3339
from hotline.domain.notices.models import json_schemas
from hotline.errors import ValidationError
from hotline.responses import JsonObject, Number, Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class NoticeRequest(StrictBody):
    to: str = Field(min_length=1, max_length=32, description="the receiving party's id")
    notice: dict[str, Any] = Field(description="a notice body; see docs/schemas")
    precedence: Precedence = "ROUTINE"
    lang: Lang | None = None
    client_ref: str | None = Field(None, max_length=100)
    accept_conflict: str | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="send although the volumes conflict with the other side's: the reason, "
        "recorded in the message's trail; without it such a notice is refused "
        "(409 volume_conflict)",
    )
    attachments: list[AttachmentChoice] | None = Field(
        None,
        max_length=8,
        description="files uploaded before (`POST /attachments`), signed into the envelope "
        "by SHA-256, as for a text message (any notice: an account's photographs, plots, "
        "track history)",
    )


class CheckRequest(StrictBody):
    to: str = Field(min_length=1, max_length=32)
    notice: dict[str, Any]


class Finding(Out):
    """The outcome of one rule of the agreement for one notice, in both languages."""

    rule_id: str
    title_en: str
    title_ru: str
    satisfied: bool
    severity: str
    blocking: bool = Field(description="the rule's setting: a breach of it blocks sending")
    blocks_sending: bool = Field(description="this finding, now: blocking and not satisfied")
    margin_s: Number | None = Field(description="advance notice: seconds to spare (< 0: short)")
    detail_en: str
    detail_ru: str
    source: str | None = Field(None, description="the agreement and paragraph of the rule")
    because_en: str | None = Field(None, description="thresholds met, when the rule has any")
    because_ru: str | None = None


class Checked(Out):
    type: str
    body: JsonObject = Field(description="the notice as it would be sent")
    findings: list[Finding]
    rendering: Rendering
    conflicts: list[JsonObject] = Field(description="declared volumes it would conflict with")
    blocked: bool = Field(description="a blocking rule is breached: it cannot be sent")
    conflict_needs_reason: bool = Field(
        description="it conflicts and declares the sender's activity or areas: sent only "
        "with accept_conflict (a reason)"
    )


class NoticeSent(Out):
    message: Message
    findings: list[Finding]
    rendering: Rendering
    conflicts: list[JsonObject]
    accepted_conflict: str | None = Field(
        description="the reason given for sending in conflict (null: no conflict)"
    )


class ConflictSide(Out):
    message_id: str
    volume_id: str
    party: str
    area: bool = Field(description="a protected area, not a declared activity")


class VolumeConflict(Out):
    id: int
    a: ConflictSide
    b: ConflictSide
    start: str
    end: str
    horizontal_m: Number
    vertical_m: Number
    detected_at: str
    state: str = Field(description="open, or closed (kept as history)")
    closed_at: str | None = None
    closed_reason: str | None = Field(
        default=None, description="amended, withdrawn, expired or accepted"
    )
    closed_detail: str | None = Field(default=None, description="why, in words")
    closed_by: str | None = Field(default=None, description="the message that ended it")


class VolumeState(Out):
    """One volume (its current version) or proposal, and its state."""

    key: str = Field(description="<message id>/<volume id> of the notice that declared it")
    message_id: str
    volume_id: str
    owner: str
    version: int
    version_message_id: str = Field(description="the message carrying this version")
    state: str = Field(description="proposed, declared, agreed, withdrawn or expired")
    since: str
    kind: str = Field(description="volume (the current version) or proposal")
    reason: str | None = None
    changed_by: str | None = None
    negotiation: str | None = None


class Negotiation(Out):
    """A negotiation as both nodes fold it from the same messages."""

    id: str = Field(description="the message id of its first request")
    requester: str
    state: str = Field(description="requested, counter_proposed, agreed or denied")
    reason: str | None
    concerns: list[JsonObject]
    quoted: list[str] = Field(description="volumes copied into requests of the older form")
    proposals: list[JsonObject]
    rounds: list[JsonObject]
    proposal_conflicts: list[JsonObject]


class FeatureCollection(Out):
    """GeoJSON (RFC 7946): ``features`` are passed through as built."""

    type: str = Field(description="FeatureCollection")
    features: list[JsonObject]


@router.post(
    "/notices/check",
    summary="Validate, check the rules and render a notice; send nothing",
    response_model=Checked,
)
def check_notice(body: CheckRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    prepared = node.notices.prepare(body.to, body.notice)
    return {
        "type": prepared.type,
        "body": prepared.body,
        "findings": prepared.findings,
        "rendering": prepared.rendering,
        "conflicts": prepared.conflicts,
        "blocked": prepared.blocked,
        "conflict_needs_reason": prepared.needs_reason,
    }


@router.post(
    "/notices",
    status_code=201,
    summary="Send a formatted notice (rules checked; FLASH: held for a second approval)",
    response_model=NoticeSent,
    responses=HELD,
)
def send_notice(body: NoticeRequest, node: NodeDep, user: UserDep) -> Any:
    refs = None
    if body.attachments:
        refs = node.attachments.refs([a.model_dump() for a in body.attachments])
    if node.held.required(body.precedence):
        held = node.held.hold(
            "notice",
            to=body.to,
            payload=_held_payload(body) | ({"attachments": refs} if refs else {}),
            precedence=body.precedence,
            lang=body.lang,
            user=user.name,
            client_ref=body.client_ref,
        )
        return JSONResponse(held, status_code=202)
    return node.notices.send(
        body.to,
        body.notice,
        precedence=body.precedence,
        lang=body.lang,
        user=user.name,
        client_ref=body.client_ref,
        accept_conflict=body.accept_conflict,
        attachments=refs,
    )


def _held_payload(body: NoticeRequest) -> dict[str, Any]:
    """What a held FLASH notice keeps until approved: the reason for a conflict too."""
    payload: dict[str, Any] = {"notice": body.notice}
    if body.accept_conflict is not None:
        payload["accept_conflict"] = body.accept_conflict
    return payload


@router.get(
    "/conflicts",
    summary="Conflicts between declared volumes, newest first",
    response_model=list[VolumeConflict],
)
def conflict_list(
    node: NodeDep,
    user: UserDep,
    message: str | None = None,
    state: str | None = None,
    current: bool = False,
) -> list[dict[str, Any]]:
    """``state``: open or closed; ``current=true``: only conflicts whose shared time has
    not ended (node clock)."""
    if state not in (None, "open", "closed"):
        raise ValidationError("state must be 'open' or 'closed'", field="state")
    found = node.conflicts.listing(message, state)
    if not current:
        return found
    now = node.line.clock.now()
    return [c for c in found if parse_rfc3339(c["end"]) > now]


@router.get(
    "/volumes/states",
    summary="Every volume (current version) and proposal with its owner, version and state",
    response_model=list[VolumeState],
)
def volume_states(node: NodeDep, user: UserDep, message: str | None = None) -> list[dict[str, Any]]:
    return node.conflicts.volumes(message)


@router.get(
    "/negotiations/{message_id}",
    summary="A negotiation, named by any of its messages: state, rounds, volumes",
    response_model=Negotiation,
)
def negotiation(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.negotiation(message_id)


@router.get(
    "/volumes",
    summary="Every declared volume, own and peers', as GeoJSON",
    response_model=FeatureCollection,
)
def volume_list(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.volumes_geojson()


@router.get(
    "/notices/schemas",
    summary="The JSON Schema of each notice type",
    response_model=dict[str, JsonObject],
)
def notice_schemas(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return json_schemas()
