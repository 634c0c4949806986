"""The node's HTTP applications: operator API and console, federation API, health, errors.

A node listens twice (``docs/operator-guide.md``, "Listeners"): the **federation** side
(``/federation/…`` and ``/health``, mutual TLS, for the peer's network) and the
**operator** side (API, console, ``/metrics``, ``/health``; TLS, for the operators'
network). ``create_app(node, side=…)`` builds the ASGI app of one side (``both`` for
in-process tests); :func:`listeners` gives each side with its address and SSL context.

The lifespan starts the node's background jobs (leadership, then — in the active
process — the scheduler, checkpoint exchange and delivery workers, see
:mod:`hotline.services.runtime.jobs`) when the first app of the node starts, and stops
them, threads joined, when the last one stops.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline import __version__, seclog
from hotline.api import attachments as attachments_api
from hotline.api import (
    auth,
    calls,
    cases,
    evidence,
    export,
    feeds,
    held,
    links,
    messages,
    notices,
    safety,
    tracks,
    watch,
)
from hotline.api import escalation as escalation_api
from hotline.api import node as node_api
from hotline.api.attachments import UPLOAD_PATH
from hotline.api.deps import current_user
from hotline.config import NodeSettings, split_listen
from hotline.errors import (
    BadSignature,
    ConfigError,
    HotlineError,
    MalformedMessage,
    MessageTooLarge,
    UnknownKey,
)
from hotline.federation.attachments import router as federation_attachments_router
from hotline.federation.evidence import router as federation_evidence_router
from hotline.federation.line import router as federation_router
from hotline.federation.recovery import router as federation_recovery_router
from hotline.hygiene import Hygiene
from hotline.node import Node
from hotline.protocol import tls
from hotline.protocol.canonical import check_json_shape
from hotline.responses import ErrorDetail, ErrorResponse, Out, with_error_schemas
from hotline.web.routes.console import router as console_router
from hotline.web.routes.console import static_files as console_static

#: The console's forms: a message of 20,000 Cyrillic letters, percent-encoded, fits.
MAX_CONSOLE_BODY = 262_144
#: The console's compose form with a file (multipart): the file's limit and the form's.
CONSOLE_UPLOAD_PATH = "/console/compose/text"
FEDERATION_PREFIX = "/federation/"
#: ``Strict-Transport-Security`` on the operator side's TLS answers: one year.
HSTS = "max-age=31536000"

Side = Literal["federation", "operator", "both"]
#: One listener: its name, host, port, app and SSL context (None: plain HTTP).
Listener = tuple[str, str, int, FastAPI, ssl.SSLContext | None]

_serving: dict[int, int] = {}  # id(node) -> apps of it that are running
_logs: dict[int, seclog.NodeLogs] = {}  # id(node) -> its logs, shared by its apps
_serving_lock = threading.Lock()


def _count(node: Node, step: int) -> int:
    with _serving_lock:
        count = _serving.get(id(node), 0) + step
        if count:
            _serving[id(node)] = count
        else:
            _serving.pop(id(node), None)
        return count


def _node_logs(node: Node) -> seclog.NodeLogs:
    """The node's security and access logs (``hotline.seclog``), opened once and shared
    by its apps (both listeners write to the same files)."""
    with _serving_lock:
        logs = _logs.get(id(node))
        if logs is None:
            settings = node.settings
            logs = seclog.open_logs(
                settings.directory,
                node.identity.party,
                security=settings.security_log,
                access=settings.access_log,
            )
            _logs[id(node)] = logs
        return logs


def _close_logs(node: Node, logs: seclog.NodeLogs) -> None:
    with _serving_lock:
        if _logs.get(id(node)) is logs:
            del _logs[id(node)]
    seclog.uninstall(logs)
    logs.close()


def create_app(node: Node, *, side: Side = "both", start_workers: bool = True) -> FastAPI:
    """The app of one side of ``node`` (``both``: every route, for in-process tests)."""
    logs = _node_logs(node)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        first = _count(node, +1) == 1
        if first:
            seclog.install(logs)  # the node's background threads log there too
        if first and start_workers:  # the node's first app to start
            node.start()
        try:
            yield
        finally:
            if _count(node, -1) == 0:  # its last app to stop
                node.stop()
                _close_logs(node, logs)

    app = FastAPI(
        title=f"Hotline node {node.identity.party}",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # served below, behind authentication
        docs_url=None,
        redoc_url=None,
    )
    app.state.node = node
    app.state.side = side
    if side in ("operator", "both"):
        for module in (
            auth,
            node_api,
            messages,
            notices,
            cases,
            held,
            calls,
            watch,
            tracks,
            feeds,
            export,
            links,
            safety,
        ):
            app.include_router(module.router)
        app.include_router(escalation_api.router)
        app.include_router(attachments_api.router)
        app.include_router(links.metrics_router)
        app.include_router(evidence.router)
        app.include_router(console_router)
        app.mount("/console/static", console_static(), name="console_static")
    if side in ("federation", "both"):
        app.include_router(federation_router)
        app.include_router(federation_evidence_router)
        app.include_router(federation_recovery_router)
        app.include_router(federation_attachments_router)
    _add_errors(app)
    _add_body_limit(app, node)
    if side in ("operator", "both"):
        _add_hsts(app)
    if side == "federation":
        _add_one_request_per_connection(app)
    # last: the outermost of the app's own middleware
    app.add_middleware(Hygiene, logs=logs, side=None if side == "both" else side)

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

    if side in ("operator", "both"):

        @app.get(
            "/api/v1/openapi.json", include_in_schema=False, dependencies=[Depends(current_user)]
        )
        def openapi() -> dict[str, Any]:
            return app.openapi()

    return app


def federation_address(settings: NodeSettings) -> tuple[str, int]:
    """Where the federation listener binds: ``federation_listen``, else the first
    endpoint's host and port."""
    if settings.federation_listen:
        return split_listen(settings.federation_listen)
    first = urlsplit(settings.endpoints[0]) if settings.endpoints else None
    if first is None or not first.hostname:
        return "127.0.0.1", 8443
    default = 80 if first.scheme == "http" else 443
    return first.hostname, first.port or default


def listeners(node: Node) -> list[Listener]:
    """The node's two listeners, each with its app and SSL context.

    The federation side is on mutual TLS (a client certificate pinned for a peer is
    required; see :class:`~hotline.services.line.tls.NodeTls`), or on plain HTTP only when
    every endpoint is ``http://`` (``allow_plain_http``, loopback: development). The
    operator side is always on TLS. Both on one address is a :class:`ConfigError`.
    """
    settings = node.settings
    fed_host, fed_port = federation_address(settings)
    op_host, op_port = split_listen(settings.operator_listen)
    if (fed_host, fed_port) == (op_host, op_port):
        raise ConfigError(
            f"the federation and operator listeners both name {op_host}:{op_port}",
            hint="set federation_listen (or the first endpoint) and operator_listen apart: "
            "the operator side must not be reachable from the peer's network",
            setting="operator_listen",
        )
    endpoints = settings.endpoints
    plain = bool(endpoints) and all(url.lower().startswith("http://") for url in endpoints)
    if plain and not (settings.allow_plain_http and tls.is_loopback_host(fed_host)):
        raise ConfigError(
            f"the federation listener would serve plain HTTP on {fed_host}:{fed_port}",
            hint="give https:// endpoints (mutual TLS); plain HTTP is for development only, "
            "with allow_plain_http and a loopback federation_listen",
            setting="federation_listen",
        )
    federation_ssl = None if plain else node.tls.federation_context()
    return [
        ("federation", fed_host, fed_port, create_app(node, side="federation"), federation_ssl),
        (
            "operator",
            op_host,
            op_port,
            create_app(node, side="operator"),
            node.tls.operator_context(),
        ),
    ]


def _add_one_request_per_connection(app: FastAPI) -> None:
    """Close each federation connection after its answer: every request comes on a new
    handshake, checked against the pins of that moment (a ``peer add --replace`` cuts off
    the old certificate at once, kept-alive connections included)."""
    app.add_middleware(AddHeaders, headers={"Connection": "close"}, replace=True)


def _add_hsts(app: FastAPI) -> None:
    app.add_middleware(AddHeaders, headers={"Strict-Transport-Security": HSTS}, https_only=True)


class AddHeaders:
    """Headers on every HTTP answer, as a plain ASGI middleware (Starlette's
    ``BaseHTTPMiddleware``, behind ``@app.middleware("http")``, costs a task and a
    stream per request: it showed on every send of the operator API).

    ``replace``: set the header whatever the app said, else only where it said nothing;
    ``https_only``: only on answers over TLS (HSTS means nothing on plain HTTP)."""

    def __init__(
        self,
        app: ASGIApp,
        headers: dict[str, str],
        *,
        replace: bool = False,
        https_only: bool = False,
    ) -> None:
        self.app = app
        self.headers = headers
        self.replace = replace
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.https_only and scope.get("scheme") != "https"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if self.replace:
                        headers[name] = value
                    else:
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Health(Out):
    status: str = Field(description="ok")
    party: str
    version: str
    process: str = Field(description="active: runs the background work; else standby")


def _error(exc: HotlineError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
    return _answer(exc.to_dict(), exc.http_status, headers | exc.headers() or None)


def _answer(
    error: dict[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Every error answer, in the one shape of :class:`ErrorResponse` (``docs/api.md``)."""
    body = ErrorResponse(error=ErrorDetail.model_validate(error))
    return JSONResponse(body.model_dump(exclude_unset=True), status_code=status, headers=headers)


#: What a caller whose signature did not verify is told on ``/federation`` (the details,
#: which would say which parties and keys are pinned, go to the security log only).
NOT_ACCEPTED = "the request is not signed by a key this node accepts"


def _add_errors(app: FastAPI) -> None:
    @app.exception_handler(HotlineError)
    async def hotline_error(request: Request, exc: HotlineError) -> JSONResponse:
        if request.url.path.startswith("/federation/") and isinstance(
            exc, UnknownKey | BadSignature
        ):
            seclog.event("peer_refused", code=exc.code, detail=exc.message)
            return _answer({"code": exc.code, "message": NOT_ACCEPTED}, exc.http_status)
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
        known = {400: "malformed", 404: "not_found", 405: "method_not_allowed"}
        code = known.get(exc.status_code, "http")
        body = {"code": code, "message": str(exc.detail)}
        return _answer(body, exc.status_code, exc.headers)  # a 405's Allow: see hygiene.py


def _add_body_limit(app: FastAPI, node: Node) -> None:
    """Every route's body limit, chunked or not, and JSON depth, before any route runs."""
    app.add_middleware(BodyLimit, limit_for=lambda path: body_limit(node.settings, path))


def body_limit(settings: NodeSettings, path: str) -> int:
    """The largest request body a route takes, in bytes."""
    if path.startswith(FEDERATION_PREFIX):
        return settings.max_envelope_bytes * settings.batch_size
    if path == UPLOAD_PATH:
        return settings.max_attachment_bytes
    if path == CONSOLE_UPLOAD_PATH:  # a file and the compose form, multipart
        return settings.max_attachment_bytes + MAX_CONSOLE_BODY
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
        if message["type"] != "http.request":  # http.disconnect: nobody to answer
            raise ClientDisconnect()
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
