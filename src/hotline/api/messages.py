"""Messages over the operator API: send, list, show, acknowledge, translate.

Text and coded messages go out with ``POST /messages``; many text messages at once, in one
transaction, with ``POST /messages/batch``; formatted notices have their own
routes (``api/notices.py``). FLASH messages are held for a second person (``api/held.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import Field

from hotline.api.deps import Lang, NodeDep, Precedence, StrictBody, UserDep
from hotline.api.schemas import HELD, Message, MessageShown, Translation
from hotline.domain.bodies import SYSTEM_TYPES
from hotline.errors import Forbidden, ValidationError
from hotline.responses import Out, RowId, TypedRouter
from hotline.storage.messages import IN, OUT

router = TypedRouter(prefix="/api/v1", tags=["operator"])


class AttachmentChoice(StrictBody):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="as `POST /attachments` gave")
    name: str | None = Field(
        None, min_length=1, max_length=200, description="defaults to the name uploaded"
    )


class SendRequest(StrictBody):
    to: str = Field(min_length=1, max_length=32, description="the receiving party's id")
    text: str | None = Field(None, min_length=1, max_length=20_000, description="free text")
    code: int | None = Field(None, ge=1, le=9999, description="a phrasebook code instead of text")
    precedence: Precedence = "ROUTINE"
    lang: Lang | None = Field(None, description="defaults to the node's language")
    client_ref: str | None = Field(
        None, max_length=100, description="idempotency key: sending twice queues once"
    )
    attachments: list[AttachmentChoice] | None = Field(
        None,
        max_length=8,
        description="files uploaded before (`POST /attachments`), signed into the envelope "
        "by SHA-256 (text messages only)",
    )


class BatchItem(StrictBody):
    to: str = Field(min_length=1, max_length=32, description="the receiving party's id")
    text: str = Field(min_length=1, max_length=20_000, description="free text")
    precedence: Precedence = "ROUTINE"
    lang: Lang | None = Field(None, description="defaults to the node's language")
    client_ref: str | None = Field(
        None, max_length=100, description="idempotency key: sending twice queues once"
    )


class BatchRequest(StrictBody):
    messages: list[BatchItem] = Field(
        min_length=1, description="at most `max_batch_messages` (default 500)"
    )


class BatchSent(Out):
    """The messages of a batch, queued, in the order given."""

    messages: list[Message]


class TranslationRequest(StrictBody):
    lang: Lang
    text: str = Field(min_length=1, max_length=40_000)


class DraftRequest(StrictBody):
    lang: Lang


@router.post(
    "/messages",
    status_code=201,
    summary="Queue a text or coded message to a peer (FLASH: held for a second approval)",
    response_model=Message,
    responses=HELD,
)
def send(body: SendRequest, node: NodeDep, user: UserDep) -> Any:
    if (body.text is None) == (body.code is None):
        raise ValidationError("give either text or code", hint="one of the two, not both")
    refs = None
    if body.attachments:
        if body.text is None:
            raise ValidationError("attachments go with a text message", field="attachments")
        refs = node.attachments.refs([a.model_dump() for a in body.attachments])
    if node.held.required(body.precedence):
        held = node.held.hold(
            "text" if body.text is not None else "code",
            to=body.to,
            payload=(
                {"code": body.code}
                if body.text is None
                else {"text": body.text} | ({"attachments": refs} if refs else {})
            ),
            precedence=body.precedence,
            lang=body.lang,
            user=user.name,
            client_ref=body.client_ref,
        )
        return JSONResponse(held, status_code=202)
    if body.code is not None:
        sent = node.notices.send_code(
            body.to,
            body.code,
            precedence=body.precedence,
            user=user.name,
            client_ref=body.client_ref,
        )
        message: dict[str, Any] = sent["message"]
        return message | {"rendering": sent["rendering"]}
    return node.line.send(
        to=body.to,
        text=body.text,
        precedence=body.precedence,
        lang=body.lang,
        user=user.name,
        client_ref=body.client_ref,
        attachments=refs,
    )


@router.post(
    "/messages/batch",
    status_code=201,
    summary="Queue many text messages in one transaction (all or none; no FLASH while "
    "FLASH needs a second approval)",
    response_model=BatchSent,
)
def send_batch(body: BatchRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    """Each item becomes its own signed, chained envelope, all committed together. A
    refused item refuses the batch, naming its index (``context.item``). A FLASH item
    while the two-person rule is on is refused too: it must be held for a second person,
    one by one, through ``POST /messages``; a batch never sends it past that rule."""
    for index, item in enumerate(body.messages):
        if node.held.required(item.precedence):
            raise Forbidden(
                f"item {index}: a FLASH message needs a second person's approval and "
                "cannot be sent in a batch",
                hint="send it alone with POST /api/v1/messages: it is held for approval",
                item=index,
                field="precedence",
            )
    sent = node.line.send_many([item.model_dump() for item in body.messages], user=user.name)
    return {"messages": sent}


@router.get("/inbox", summary="Received messages, newest first", response_model=list[Message])
def inbox(
    node: NodeDep, user: UserDep, peer: str | None = None, limit: int = 200, system: bool = False
) -> list[dict[str, Any]]:
    rows = node.line.listing(IN, peer=peer, limit=min(max(limit, 1), 5000))
    return rows if system else [r for r in rows if r["type"] not in SYSTEM_TYPES]


@router.get(
    "/outbox",
    summary="Sent messages with their delivery state, newest first",
    response_model=list[Message],
)
def outbox(
    node: NodeDep, user: UserDep, peer: str | None = None, limit: int = 200, system: bool = False
) -> list[dict[str, Any]]:
    rows = node.line.listing(OUT, peer=peer, limit=min(max(limit, 1), 5000))
    return rows if system else [r for r in rows if r["type"] not in SYSTEM_TYPES]


@router.get(
    "/messages/{message_id}",
    summary="One message with its envelope, receipt and trail (id or its first 6+ characters)",
    response_model=MessageShown,
)
def show(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.show(node.line.whole_id(message_id))


@router.post(
    "/messages/{message_id}/ack",
    summary="Acknowledge a received message, signed (id or its first 6+ characters)",
    response_model=Message,
)
def acknowledge(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.line.acknowledge(node.line.whole_id(message_id), user.name)


@router.post(
    "/messages/{message_id}/translations",
    status_code=201,
    summary="Add a human translation (uncertified until a second person certifies)",
    response_model=Translation,
)
def translate(
    message_id: str, body: TranslationRequest, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.notices.translate(message_id, body.lang, body.text, user.name)


@router.post(
    "/messages/{message_id}/translations/draft",
    status_code=201,
    summary="A machine draft, marked 'not certified' (409 when none is available)",
    response_model=Translation,
)
def draft(message_id: str, body: DraftRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.notices.draft(message_id, body.lang, user.name)


@router.post(
    "/translations/{translation_id}/certify",
    summary="Certify a translation (never by its own translator)",
    response_model=Translation,
)
def certify(translation_id: RowId, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.notices.certify(translation_id, user.name)
