"""The peer-facing side of attachments: a peer fetches the files of messages this node
sent it, by SHA-256, chunk by chunk (``services/attachments/pull.py``).

Only files that a message sent from this node carries are served; the bytes are checked
by the fetching peer against the manifest and, whole, against the SHA-256 this node
signed in the envelope.
"""

from __future__ import annotations

from typing import Any

from fastapi import Path, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.node import Node
from hotline.responses import ERRORS, Out, TypedRouter, text_answer

router = TypedRouter(
    prefix="/federation/v1",
    tags=["federation"],
    responses={code: ERRORS[code] for code in (404, 500)},
)

SHA = Path(pattern=r"^[0-9a-f]{64}$", description="the file's SHA-256, as signed")


class Manifest(Out):
    sha256: str
    size: int
    chunk_size: int = Field(description="bytes per chunk (the last may be shorter)")
    chunks: list[str] = Field(description="each chunk's SHA-256, in order")


@router.get(
    "/attachments/{sha256}",
    summary="How to fetch a file a message of this node carries: its chunks' hashes",
    response_model=Manifest,
)
async def manifest(request: Request, sha256: str = SHA) -> Any:
    node: Node = request.app.state.node
    return await run_in_threadpool(node.attachments.manifest, sha256)


@router.get(
    "/attachments/{sha256}/chunks/{index}",
    summary="One chunk of a file a message of this node carries",
    responses=text_answer("application/octet-stream"),
)
async def chunk(
    request: Request, index: int = Path(ge=0, le=1_000_000), sha256: str = SHA
) -> Response:
    node: Node = request.app.state.node
    data = await run_in_threadpool(node.attachments.chunk, sha256, index)
    return Response(data, media_type="application/octet-stream")
