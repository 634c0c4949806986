"""The peer-facing side of the checkpoint exchange: a peer asks this node to co-sign.

``POST /federation/v1/checkpoints`` with a checkpoint note signed by the peer and a
consistency proof; the answer is the note co-signed by this node, or an error —
``log_fork`` (409) for a rollback or a fork, which this node keeps as evidence. The
format is in ``services/evidence/cosign.py`` and ``docs/evidence.md``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.federation.line import read_limited
from hotline.node import Node
from hotline.protocol.canonical import parse_json
from hotline.responses import ERRORS, Out, TypedRouter

router = TypedRouter(
    prefix="/federation/v1",
    tags=["federation"],
    responses={code: ERRORS[code] for code in (400, 403, 409, 413, 500)},
)


class Cosigned(Out):
    checkpoint: str = Field(description="the checkpoint note, now also signed by this node")


#: A note, a size and at most 130 base64 hashes fit easily.
MAX_CHECKPOINT_BODY = 65_536


#: The request body, described for the OpenAPI document (the route reads it raw).
COSIGN_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["checkpoint", "old_size", "proof"],
                "additionalProperties": False,
                "properties": {
                    "checkpoint": {"type": "string", "description": "the signed note"},
                    "old_size": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
                    "proof": {"type": "array", "items": {"type": "string"}, "maxItems": 130},
                },
            }
        }
    },
}


@router.post(
    "/checkpoints",
    summary="Co-sign a peer's checkpoint that extends the last one",
    response_model=Cosigned,
    openapi_extra={"requestBody": COSIGN_BODY},
)
async def cosign(request: Request) -> dict[str, Any]:
    node: Node = request.app.state.node
    payload = parse_json(await read_limited(request, MAX_CHECKPOINT_BODY), "checkpoint request")
    cosigned = await run_in_threadpool(node.evidence.cosign, payload)
    return {"checkpoint": cosigned}
