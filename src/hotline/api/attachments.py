"""Attachments over the operator API: upload a file, read it back, see its state.

``POST /api/v1/attachments?name=radar.png`` takes the file as the raw request body (its
``Content-Type`` is the declared type, checked against the bytes); the answer's
``sha256`` is then named in ``attachments`` of ``POST /api/v1/messages``. The body is
bound by ``max_attachment_bytes`` (413 ``too_large`` as soon as it passes).
"""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from hotline.api.deps import NodeDep, UserDep
from hotline.errors import MessageTooLarge
from hotline.responses import Out, TypedRouter, file_response, text_answer

router = TypedRouter(prefix="/api/v1", tags=["operator"])

UPLOAD_PATH = "/api/v1/attachments"


class Uploaded(Out):
    sha256: str = Field(description="SHA-256 of the bytes (hex): name it when sending")
    name: str
    content_type: str = Field(description="as judged from the bytes (declared, if they agree)")
    size: int
    deduplicated: bool = Field(description="the same bytes were stored already (kept once)")


class AttachmentInfo(Out):
    sha256: str
    name: str = Field(description="the first name this node knew it by")
    content_type: str
    size: int
    state: str = Field(description="complete | partial (chunks being fetched) | refused")
    peer: str | None = Field(description="fetched from this peer (none: uploaded here)")
    stored: int = Field(description="chunks stored")
    chunk_size: int | None
    failures: int
    detail: str | None
    created_at: str
    completed_at: str | None
    messages: list[str] = Field(description="the messages that carry it")


UPLOAD_BODY = {
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


@router.post(
    "/attachments",
    status_code=201,
    summary="Upload a file to attach to messages (raw body; checked by its content)",
    response_model=Uploaded,
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload(
    request: Request,
    node: NodeDep,
    user: UserDep,
    name: str = Query(min_length=1, max_length=200, description="the file's name"),
) -> Any:
    data = await _read_limited(request, node.settings.max_attachment_bytes)
    declared = request.headers.get("content-type")
    return await run_in_threadpool(node.attachments.upload, data, name=name, declared=declared)


@router.get(
    "/attachments/{sha256}",
    summary="An attachment's state on this node",
    response_model=AttachmentInfo,
)
def info(sha256: str, node: NodeDep, user: UserDep) -> Any:
    return node.attachments.info(sha256)


@router.get(
    "/attachments/{sha256}/content",
    summary="An attachment's bytes (only once here whole)",
    response_class=Response,
    responses=text_answer("application/octet-stream"),
)
def content(sha256: str, node: NodeDep, user: UserDep) -> Response:
    row, data = node.attachments.read(sha256)
    return file_response(row, data)


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes ``limit`` (the body-limit middleware refuses
    a declared length over it before this runs)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(
                f"the file is over max_attachment_bytes ({limit} bytes)",
                hint="send a smaller file, or raise max_attachment_bytes",
            )
        chunks.append(chunk)
    return b"".join(chunks)
