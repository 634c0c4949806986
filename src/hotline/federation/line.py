"""The peer-facing HTTP API: where another node delivers envelopes.

There are no passwords between nodes: every envelope is signed by a pinned key, and a
request carrying anything else is refused with the error that names what was wrong.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import Field

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


#: Worker threads that parse and verify deliveries at once (which also bounds the memory
#: that parsing takes at once: up to ~35 × a crafted body): their own, so that a flood on
#: the operator API (logins fill the shared pool with Argon2 hashes) does not queue them.
FEDERATION_THREADS = 2


def _limiter(request: Request) -> CapacityLimiter:
    """The app's federation thread limiter, made in its event loop on first use."""
    state = request.app.state
    limiter: CapacityLimiter | None = getattr(state, "federation_limiter", None)
    if limiter is None:
        limiter = state.federation_limiter = CapacityLimiter(FEDERATION_THREADS)
    return limiter


def batch_limit(node: Node) -> int:
    """The largest delivery request, in bytes: ``max_envelope_bytes`` × ``batch_size``."""
    return node.settings.max_envelope_bytes * min(MAX_BATCH, node.settings.batch_size)


def parse_batch(raw: bytes) -> list[Any]:
    """The envelopes of a delivery request, its shape checked from the bytes first.

    Depth (≤ :data:`~hotline.protocol.canonical.MAX_JSON_DEPTH`) and the number of values
    (one per 8 bytes, and 131,072 more: parsing costs ~64 bytes a value, so at most ~8
    times the body; envelopes hold one per 10 bytes or fewer, coordinates included) are
    checked before ``json.loads`` builds anything; then the batch's length. CPU work:
    called in a worker thread, never on the event loop.
    """
    payload = parse_json(raw, max_values=len(raw) // 8 + 131_072)
    if not isinstance(payload, dict) or set(payload) != {"envelopes"}:
        raise MalformedMessage('the body must be {"envelopes": [...]}')
    envelopes = payload["envelopes"]
    if not isinstance(envelopes, list) or not envelopes:
        raise MalformedMessage("'envelopes' must be a non-empty list")
    if len(envelopes) > MAX_BATCH:
        raise MalformedMessage(f"at most {MAX_BATCH} envelopes per request")
    return envelopes


@router.post(
    "/envelopes",
    summary="Deliver envelopes, in channel order; answers with receipts",
    response_model=DeliveryAnswer,
    responses=DELIVERY_ERRORS,
    openapi_extra={"requestBody": DELIVERY_BODY},
)
async def deliver(request: Request) -> JSONResponse:
    node: Node = request.app.state.node

    def parse_and_receive(raw: bytes) -> Delivery:
        try:
            envelopes = parse_batch(raw)
        except HotlineError as exc:
            return Delivery(error=exc)
        return node.receiver.receive(envelopes)

    try:
        raw = await read_limited(request, batch_limit(node))
    except HotlineError as exc:
        return JSONResponse(Delivery(error=exc).to_dict(), status_code=exc.http_status)
    result = await anyio.to_thread.run_sync(parse_and_receive, raw, limiter=_limiter(request))
    if result.receipts:
        node.wake_all()  # receive hooks may have queued replies (link tests, answers)
    status = 200 if result.receipts or result.error is None else result.error.http_status
    return JSONResponse(result.to_dict(), status_code=status)
