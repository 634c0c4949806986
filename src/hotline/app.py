"""The node's HTTP application: operator API, federation API, health, errors.

``create_app(node)`` builds the ASGI app for one :class:`~hotline.node.Node`; the
lifespan starts the node's background jobs (leadership, then — in the active process —
the scheduler, checkpoint exchange and delivery workers, see
:mod:`hotline.services.runtime.jobs`) and stops them, threads joined, on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline import __version__
from hotline.api import auth, calls, evidence, held, links, messages, notices, tracks, watch
from hotline.api import node as node_api
from hotline.api.deps import current_user
from hotline.config import NodeSettings
from hotline.errors import HotlineError, MalformedMessage, MessageTooLarge
from hotline.federation.evidence import router as federation_evidence_router
from hotline.federation.line import router as federation_router
from hotline.node import Node
from hotline.protocol.canonical import check_json_shape
from hotline.responses import ErrorDetail, ErrorResponse, Out, with_error_schemas
from hotline.web.routes.console import router as console_router
from hotline.web.routes.console import static_files as console_static

#: The console's forms: a message of 20,000 Cyrillic letters, percent-encoded, fits.
MAX_CONSOLE_BODY = 262_144
FEDERATION_PREFIX = "/federation/"


def create_app(node: Node, *, start_workers: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start_workers:
            node.start()
        try:
            yield
        finally:
            node.stop()

    app = FastAPI(
        title=f"Hotline node {node.identity.party}",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # served below, behind authentication
        docs_url=None,
        redoc_url=None,
    )
    app.state.node = node
    for module in (auth, node_api, messages, notices, held, calls, watch, tracks, links):
        app.include_router(module.router)
    app.include_router(links.metrics_router)
    app.include_router(federation_router)
    app.include_router(evidence.router)
    app.include_router(federation_evidence_router)
    app.include_router(console_router)
    app.mount("/console/static", console_static(), name="console_static")
    _add_errors(app)
    _add_body_limit(app, node)

    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness: no authentication needed",
        response_model=Health,
        response_model_exclude_unset=True,
    )
    async def health() -> dict[str, str]:
        """Liveness; ``process`` says whether this process runs the background work.

        Answered on the event loop: never queued behind a full worker-thread pool (a
        login flood fills it with Argon2 hashes)."""
        return {
            "status": "ok",
            "party": node.identity.party,
            "version": __version__,
            "process": "active" if node.active else "standby",
        }

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_schemas(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    @app.get("/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(current_user)])
    def openapi() -> dict[str, Any]:
        return app.openapi()

    return app


class Health(Out):
    status: str = Field(description="ok")
    party: str
    version: str
    process: str = Field(description="active: runs the background work; else standby")


def _error(exc: HotlineError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
    return _answer(exc.to_dict(), exc.http_status, headers)


def _answer(
    error: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    """Every error answer, in the one shape of :class:`ErrorResponse` (``docs/api.md``)."""
    body = ErrorResponse(error=ErrorDetail.model_validate(error))
    return JSONResponse(body.model_dump(exclude_unset=True), status_code=status, headers=headers)


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(HotlineError)
    async def hotline_error(_request: Request, exc: HotlineError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors()[:10]:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {error.get('msg')}")
        body = {
            "code": "invalid",
            "message": "; ".join(problems),
            "hint": "see /api/v1/openapi.json",
        }
        return _answer(body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http")
        return _answer({"code": code, "message": str(exc.detail)}, exc.status_code)


def _add_body_limit(app: FastAPI, node: Node) -> None:
    """Every route's body limit, chunked or not, and JSON depth, before any route runs."""
    app.add_middleware(BodyLimit, limit_for=lambda path: body_limit(node.settings, path))


def body_limit(settings: NodeSettings, path: str) -> int:
    """The largest request body a route takes, in bytes."""
    if path.startswith(FEDERATION_PREFIX):
        return settings.max_envelope_bytes * settings.batch_size
    if path.startswith("/console/"):
        return MAX_CONSOLE_BODY
    return settings.max_body_bytes


class BodyLimit:
    """Pure ASGI middleware: refuse a body over its route's limit as soon as it passes it.

    A declared ``Content-Length`` over the limit is answered at once (nothing is read);
    a chunked body is counted as it streams and answered when the count passes the limit
    (what the app started answering meanwhile is dropped). Either way the answer is
    ``413 too_large`` in the one error shape (with ``receipts: []`` on the federation API,
    its shape) and ``Connection: close``, so the rest of the body is never read. A JSON
    body (or one with no content type, which FastAPI reads as JSON) is read whole, within
    the limit, and refused with ``400 malformed`` if nested deeper than
    :data:`~hotline.protocol.canonical.MAX_JSON_DEPTH`, before any parser sees it; a large
    one is scanned in a worker thread, never on the event loop.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        limit = self.limit_for(path)
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            error = MessageTooLarge(f"the request body is {declared} bytes; the limit is {limit}")
            await _refuse(path, error, scope, receive, send)
            return
        if _is_json(headers) and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            try:
                body = await _read_all(receive, limit)
                if len(body) > INLINE_SCAN_BYTES:
                    await anyio.to_thread.run_sync(check_json_shape, body)
                else:
                    check_json_shape(body)
            except (MessageTooLarge, MalformedMessage) as exc:
                await _refuse(path, exc, scope, receive, send)
                return
            await self.app(scope, _replay(body, receive), send)
            return
        await self._streamed(scope, receive, send, limit)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        size, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal size, over
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    over = True
                    raise MessageTooLarge(f"the request body is over {limit} bytes")
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if over:
                return  # the app's answer to a refused body: ours goes instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over:
                raise
        if over and not started:
            error = MessageTooLarge(f"the request body is over {limit} bytes")
            await _refuse(scope["path"], error, scope, receive, send)


#: JSON bodies up to this size are scanned on the event loop (well under a millisecond).
INLINE_SCAN_BYTES = 65_536


def _is_json(headers: Headers) -> bool:
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    return not kind or kind == "application/json" or kind.endswith("+json")


async def _read_all(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise MalformedMessage("the client left before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise MessageTooLarge(f"the request body is over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # http.disconnect, when the client leaves
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _refuse(
    path: str, error: HotlineError, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer ``error``; a 413 closes the connection (its body is never read)."""
    headers = {"Connection": "close"} if error.http_status == 413 else None
    if path.startswith(FEDERATION_PREFIX):
        answer: Response = JSONResponse(
            {"receipts": [], "error": error.to_dict()}, error.http_status, headers=headers
        )
    else:
        answer = _answer(error.to_dict(), error.http_status, headers)
    await answer(scope, receive, send)
