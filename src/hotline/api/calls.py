"""The operator API for calls between leaders and their readouts (``/api/v1``).

Thin: each route validates its JSON and calls ``node.calls``; the services enforce roles
and the two-person rule. Watch levels are in ``api/watch.py``. See ``docs/calls.md`` for
the states and the message types.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from hotline.api.deps import Lang, NodeDep, Precedence, StrictBody, UserDep
from hotline.api.schemas import HELD, Rendering
from hotline.responses import JsonObject, Out, TypedRouter, text_answer
from hotline.services.calls.service import rendered

router = TypedRouter(prefix="/api/v1", tags=["calls"])


class SlotIn(StrictBody):
    start: str = Field(description="UTC start, RFC 3339 ending in Z")
    minutes: int = Field(ge=5, le=1440)


class PersonIn(StrictBody):
    party: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(None, min_length=1, max_length=200)


class CallRequestIn(StrictBody):
    to: str = Field(min_length=1, max_length=32, description="the peer's party id")
    principal: str = Field(description="our principal's id (principals.json)")
    counterpart: str = Field(description="the peer's principal's id (its card)")
    topics: list[str] = Field(min_length=1, max_length=20)
    slots: list[SlotIn] = Field(min_length=1, max_length=10)
    answer_by: str = Field(description="deadline for the answer, UTC")
    precedence: Precedence = "ROUTINE"
    message: str | None = Field(None, description="a note to the counterpart (travels)")
    internal_note: str | None = Field(None, description="kept on this node only")
    client_ref: str | None = Field(None, max_length=100, description="idempotency key")


class AnswerIn(StrictBody):
    answer: Literal["accept", "decline", "propose"]
    slot: SlotIn | None = Field(None, description="accept: one of the slots on the table")
    slots: list[SlotIn] | None = Field(None, description="propose: other slots")
    reason: str | None = Field(None, description="decline: why (optional otherwise)")
    answer_by: str | None = Field(None, description="propose: deadline for the other side")


class WithdrawIn(StrictBody):
    reason: str | None = None


class RecordIn(StrictBody):
    request_id: str
    held_at: str
    minutes: int = Field(ge=1, le=1440)
    participants: list[PersonIn] = Field(min_length=2, max_length=50)
    interpreters: list[PersonIn] = Field(default_factory=list, max_length=20)
    private: bool = Field(False, description="ask to keep the call's details private")
    internal_note: str | None = Field(None, description="kept on this node only")


class PrivacyIn(StrictBody):
    details_private: bool


class ReadoutIn(StrictBody):
    title: str = Field(min_length=1, max_length=300)
    text: str = Field(min_length=1, max_length=20_000)
    visibility: Literal["internal", "shared", "public"] = "internal"
    lang: Lang | None = None
    issued_by: str | None = Field(None, max_length=200)


class PublishIn(StrictBody):
    visibility: Literal["shared", "public"]


class RejectReadoutIn(StrictBody):
    reason: str = Field(min_length=1, max_length=4000, description="why (kept on this node)")


# -- answers ----------------------------------------------------------------------------------


class Principal(Out):
    """A leader who takes calls (``principals.json``, or a peer's card)."""

    party: str | None = Field(None, description="absent where the party is implied")
    id: str
    name_en: str
    name_ru: str
    title_en: str
    title_ru: str


class Slot(Out):
    start: str = Field(description="UTC, RFC 3339")
    minutes: int


class TimelineEntry(Out):
    at: str
    kind: str
    party: str
    detail: JsonObject


class CallRequest(Out):
    id: str
    peer: str
    state: str
    requester: Principal
    counterpart: Principal
    topics: list[str]
    message: str | None
    precedence: str
    slots: list[Slot]
    answer_by: str
    awaiting: str | None = Field(description="the party whose answer is awaited")
    accepted_slot: Slot | None
    reason: str | None
    requested_at: str
    updated_at: str
    created_by: str | None
    internal_note: str | None = Field(description="kept on this node only")
    message_id: str | None
    timeline: list[TimelineEntry] | None = None
    call: JsonObject | None = None
    rendering: Rendering | None = None


class Person(Out):
    party: str
    name: str
    role: str | None = None


class CallPrincipals(Out):
    requester: Principal
    counterpart: Principal


class HeldCall(Out):
    """A call that was held, as recorded."""

    id: str
    held_at: str
    minutes: int
    participants: list[Person]
    interpreters: list[Person]
    recorded_by_party: str
    recorded_by: str | None
    recorded_at: str
    private_requested_by: list[str]
    details_private: bool
    internal_note: str | None
    message_id: str | None
    principals: CallPrincipals | None = None
    topics: list[str] | None = None


class Readout(Out):
    id: str
    call_id: str
    party: str
    visibility: str = Field(description="internal | shared | public")
    status: str
    lang: str | None
    title: str
    text: str
    issued_by: str | None
    written_by: str | None
    written_at: str
    approved_by: str | None
    approved_at: str | None
    published_at: str | None
    message_id: str | None
    sent_as: str | None
    rejections: list[JsonObject]


class Readouts(Out):
    call: HeldCall
    visibility: str
    sides: dict[str, list[Readout]] = Field(description="party → its readouts")


class ContactHistory(Out):
    principal: str
    peer: str
    counterpart: str
    now: str
    timeline: list[JsonObject]
    calls: list[JsonObject]
    last_contact: str | None
    days_since_last_contact: int | None
    requests: int
    by_state: dict[str, int]
    declined: list[JsonObject]
    unanswered: list[JsonObject]
    ours: Principal | None = None
    theirs: Principal | None = None


class Principals(Out):
    party: str
    ours: list[Principal]
    peers: dict[str, list[Principal]] = Field(description="party → principals on its card")


def _dump(items: list[Any] | None) -> list[dict[str, Any]] | None:
    return None if items is None else [i.model_dump(exclude_none=True) for i in items]


# -- principals and requests ------------------------------------------------------------------


@router.get(
    "/principals",
    summary="Our principals and those on each peer's card",
    response_model=Principals,
)
def principals(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.principals()


@router.get(
    "/calls/requests", summary="Call requests, newest first", response_model=list[CallRequest]
)
def requests(
    node: NodeDep, user: UserDep, peer: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    return node.calls.requests.listing(peer=peer, state=state)


@router.post(
    "/calls/requests",
    status_code=201,
    summary="Request a call (signed, to the peer; FLASH: held for a second approval)",
    response_model=CallRequest,
    responses=HELD,
)
def request_call(body: CallRequestIn, node: NodeDep, user: UserDep) -> Any:
    if node.held.required(body.precedence):
        held = node.held.hold(
            "call",
            to=body.to,
            payload=body.model_dump(exclude={"to", "precedence", "client_ref"}),
            precedence=body.precedence,
            lang=None,
            user=user.name,
            client_ref=body.client_ref,
        )
        return JSONResponse(held, status_code=202)
    made = node.calls.requests.request(
        to=body.to,
        principal=body.principal,
        counterpart=body.counterpart,
        topics=body.topics,
        slots=_dump(body.slots) or [],
        answer_by=body.answer_by,
        precedence=body.precedence,
        message=body.message,
        internal_note=body.internal_note,
        client_ref=body.client_ref,
        user=user,
    )
    return rendered(made)


@router.get(
    "/calls/requests/{request_id}",
    summary="One request: timeline and rendering",
    response_model=CallRequest,
)
def show_request(request_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.show_request(request_id)


@router.post(
    "/calls/requests/{request_id}/answer",
    summary="Accept, decline or propose slots (to a FLASH request: held for a second approval)",
    response_model=CallRequest,
    responses=HELD,
)
def answer(request_id: str, body: AnswerIn, node: NodeDep, user: UserDep) -> Any:
    peer = node.calls.requests.answer_needs_approval(request_id)
    if peer is not None:  # the answer goes out FLASH: two-person rule
        held = node.held.hold(
            "answer",
            to=peer,
            payload={"request_id": request_id, **body.model_dump(mode="json")},
            precedence="FLASH",
            lang=None,
            user=user.name,
        )
        return JSONResponse(held, status_code=202)
    answered = node.calls.requests.answer(
        request_id,
        answer=body.answer,
        slot=body.slot.model_dump() if body.slot else None,
        slots=_dump(body.slots),
        reason=body.reason,
        answer_by=body.answer_by,
        user=user,
    )
    return rendered(answered)


@router.post(
    "/calls/requests/{request_id}/withdraw",
    summary="Withdraw our request",
    response_model=CallRequest,
)
def withdraw(request_id: str, body: WithdrawIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return rendered(node.calls.requests.withdraw(request_id, reason=body.reason, user=user))


@router.get(
    "/calls/history",
    summary="Contact history between two principals",
    response_model=ContactHistory,
)
def history(
    node: NodeDep,
    user: UserDep,
    peer: str,
    principal: str | None = None,
    counterpart: str | None = None,
) -> dict[str, Any]:
    return node.calls.history(peer=peer, principal=principal, counterpart=counterpart)


@router.get(
    "/calls/histories",
    summary="Contact history of every pair of principals",
    response_model=list[ContactHistory],
)
def histories(node: NodeDep, user: UserDep, peer: str | None = None) -> list[dict[str, Any]]:
    return node.calls.histories(peer)


# -- held calls and readouts ----------------------------------------------------------------


@router.get("/calls", summary="Held calls, oldest first", response_model=list[HeldCall])
def calls(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.calls.records.calls()


@router.post(
    "/calls",
    status_code=201,
    summary="Record that an accepted call was held",
    response_model=HeldCall,
)
def record(body: RecordIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.record(
        body.request_id,
        held_at=body.held_at,
        minutes=body.minutes,
        participants=_dump(body.participants) or [],
        interpreters=_dump(body.interpreters),
        private=body.private,
        internal_note=body.internal_note,
        user=user,
    )


@router.get("/calls/{call_id}", summary="One held call", response_model=HeldCall)
def show_call(call_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.get_call(call_id)


@router.post(
    "/calls/{call_id}/privacy",
    summary="Ask (or stop asking) to keep details private",
    response_model=HeldCall,
)
def privacy(call_id: str, body: PrivacyIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.set_private(call_id, body.details_private, user=user)


@router.post(
    "/calls/{call_id}/readouts",
    status_code=201,
    summary="Write this side's readout",
    response_model=Readout,
)
def write_readout(call_id: str, body: ReadoutIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.write_readout(
        call_id,
        title=body.title,
        text=body.text,
        visibility=body.visibility,
        lang=body.lang,
        issued_by=body.issued_by,
        user=user,
    )


@router.get(
    "/calls/{call_id}/readouts",
    summary="Both sides' readouts, side by side",
    response_model=Readouts,
)
def readouts(
    call_id: str,
    node: NodeDep,
    user: UserDep,
    visibility: Literal["internal", "shared", "public"] = "public",
) -> dict[str, Any]:
    return node.calls.records.readouts(call_id, visibility)


@router.get(
    "/calls/{call_id}/readouts.md",
    summary="Public readouts of both sides, Markdown",
    response_class=PlainTextResponse,
    responses=text_answer("text/markdown"),
)
def readouts_markdown(call_id: str, node: NodeDep, user: UserDep, lang: Lang = "en") -> Response:
    text = node.calls.readouts_markdown(call_id, lang)
    return Response(text, media_type="text/markdown; charset=utf-8")


@router.post(
    "/readouts/{readout_id}/publish", summary="Widen a readout of ours", response_model=Readout
)
def publish(readout_id: str, body: PublishIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.publish(readout_id, body.visibility, user=user)


@router.post(
    "/readouts/{readout_id}/approve",
    summary="Approve a held public readout",
    response_model=Readout,
)
def approve_readout(readout_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.records.approve(readout_id, user=user)


@router.post(
    "/readouts/{readout_id}/reject",
    summary="Reject a held public readout",
    response_model=Readout,
)
def reject_readout(
    readout_id: str, body: RejectReadoutIn, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.calls.records.reject(readout_id, reason=body.reason, user=user)
