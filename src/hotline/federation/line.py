"""The peer-facing HTTP API: where another node delivers envelopes.

There are no passwords between nodes: every envelope is signed by a pinned key, and a
request carrying anything else is refused with the error that names what was wrong.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.domain.line import Envelope
from hotline.errors import HotlineError, MalformedMessage, MessageTooLarge
from hotline.node import Node
from hotline.protocol.canonical import parse_json
from hotline.responses import ErrorDetail, JsonObject, Out, TypedRouter
from hotline.services.line.receive import MAX_BATCH, Delivery

router = TypedRouter(prefix="/federation/v1", tags=["federation"], responses={})


class DeliveryAnswer(Out):
    """Receipts for the envelopes stored, in order, and the first refusal (if any).

    Also the body of this route's error answers (``receipts`` empty): a peer reads one
    shape whatever happened. Returned raw: the receipts are signed.
    """

    receipts: list[JsonObject] = Field(description="signed receipts, exactly as signed")
    error: ErrorDetail | None = Field(description="the first envelope refused, and why")


def _refused(description: str) -> dict[str, Any]:
    return {"model": DeliveryAnswer, "description": description}


DELIVERY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _refused("malformed envelope or batch (`malformed`, `clock_skew` …)"),
    403: _refused("unknown key or bad signature (`unknown_key`, `bad_signature`)"),
    409: _refused("out of order or contradicting (`seq_gap`, `prev_mismatch` …)"),
    413: _refused("over the size limit (`too_large`)"),
    421: _refused("addressed to another party (`wrong_recipient`)"),
    500: _refused("the node failed unexpectedly (`internal`)"),
}


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise MessageTooLarge(f"the request is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(f"the request is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


#: The request body, described for the OpenAPI document (the route reads it raw).
DELIVERY_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["envelopes"],
                "additionalProperties": False,
                "properties": {
                    "envelopes": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_BATCH,
                        "items": Envelope.model_json_schema(),
                    }
                },
            }
        }
    },
}


@router.post(
    "/envelopes",
    summary="Deliver envelopes, in channel order; answers with receipts",
    response_model=DeliveryAnswer,
    responses=DELIVERY_ERRORS,
    openapi_extra={"requestBody": DELIVERY_BODY},
)
async def deliver(request: Request) -> JSONResponse:
    node: Node = request.app.state.node
    limit = node.settings.max_envelope_bytes * min(MAX_BATCH, node.settings.batch_size * 2)
    try:
        raw = await read_limited(request, limit)
        payload = parse_json(raw)
        if not isinstance(payload, dict) or set(payload) != {"envelopes"}:
            raise MalformedMessage('the body must be {"envelopes": [...]}')
    except HotlineError as exc:
        return JSONResponse(Delivery(error=exc).to_dict(), status_code=exc.http_status)
    result = await run_in_threadpool(node.receiver.receive, payload["envelopes"])
    if result.receipts:
        node.wake_all()  # receive hooks may have queued replies (link tests, answers)
    status = 200 if result.receipts or result.error is None else result.error.http_status
    return JSONResponse(result.to_dict(), status_code=status)
