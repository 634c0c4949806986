"""The peer-facing side of attachments: a peer fetches the files of messages this node
sent it, by SHA-256, chunk by chunk (``services/attachments/pull.py``).

Only files that a message sent from this node carries are served; the bytes are checked
by the fetching peer against the manifest and, whole, against the SHA-256 this node
signed in the envelope.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.errors import NotFound
from hotline.node import Node
from hotline.responses import ERRORS, Out, TypedRouter, text_answer

router = TypedRouter(
    prefix="/federation/v1",
    tags=["federation"],
    responses={code: ERRORS[code] for code in (400, 403, 404, 413, 422, 500)},
)

_SHA = re.compile(r"^[0-9a-f]{64}$")


def _checked(sha256: str, index: str = "0") -> tuple[str, int]:
    """The path's SHA-256 and chunk index, or not found (never a 422 to a peer)."""
    if not _SHA.match(sha256) or not index.isdigit() or len(index) > 7:
        raise NotFound(f"no attachment {sha256[:64]!r} chunk {index[:8]!r}")
    return sha256, int(index)


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
async def manifest(request: Request, sha256: str) -> Any:
    node: Node = request.app.state.node
    digest, _ = _checked(sha256)
    return await run_in_threadpool(node.attachments.manifest, digest)


@router.get(
    "/attachments/{sha256}/chunks/{index}",
    summary="One chunk of a file a message of this node carries",
    response_class=Response,
    responses=text_answer("application/octet-stream"),
)
async def chunk(request: Request, sha256: str, index: str) -> Response:
    node: Node = request.app.state.node
    digest, number = _checked(sha256, index)
    data = await run_in_threadpool(node.attachments.chunk, digest, number)
    return Response(data, media_type="application/octet-stream")
