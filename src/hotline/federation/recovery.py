"""The peer-facing side of recovery after a restore (``services/evidence/recovery_peer.py``).

``POST /federation/v1/recovery``: a pinned peer, restored from a backup, asks (signed) for
the signed copies this node holds of what crossed the line after its heads.
``POST /federation/v1/recovery/checkpoint``: it has its new log co-signed, proving its
recovery. Shapes and errors: ``docs/protocol.md``, "Recovery after a restore".
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.federation.line import read_limited
from hotline.node import Node
from hotline.protocol.canonical import parse_json
from hotline.responses import ERRORS, JsonObject, Out, TypedRouter

router = TypedRouter(
    prefix="/federation/v1",
    tags=["federation"],
    responses={code: ERRORS[code] for code in (400, 403, 409, 413, 500)},
)

#: A signed request, or a note, a statement and two proofs of at most 130 hashes.
MAX_RECOVERY_BODY = 262_144


class Copies(Out):
    inbound: list[JsonObject] = Field(description="envelopes this node sent, with receipts")
    outbound: list[JsonObject] = Field(description="the asker's envelopes, with receipts")
    heads: JsonObject = Field(description="this node's heads of both channels")
    cosigned: str | None = Field(description="the last checkpoint of the asker's log co-signed")
    more: bool = Field(description="ask again from the new heads")


class Cosigned(Out):
    checkpoint: str = Field(description="the checkpoint note, now also signed by this node")


@router.post("/recovery", summary="Copies for a peer restored from a backup", response_model=Copies)
async def recovery(request: Request) -> dict[str, Any]:
    node: Node = request.app.state.node
    payload = parse_json(await read_limited(request, MAX_RECOVERY_BODY), "recovery request")
    return await run_in_threadpool(node.recovery_desk.answer, payload)


@router.post(
    "/recovery/checkpoint",
    summary="Co-sign the new log of a peer that proves its recovery",
    response_model=Cosigned,
)
async def recovery_checkpoint(request: Request) -> dict[str, Any]:
    node: Node = request.app.state.node
    payload = parse_json(await read_limited(request, MAX_RECOVERY_BODY), "recovery checkpoint")
    cosigned = await run_in_threadpool(node.recovery_desk.cosign, payload)
    return {"checkpoint": cosigned}
