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
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline import __version__, seclog
from hotline.api import auth, calls, evidence, held, links, messages, notices, tracks, watch
from hotline.api import node as node_api
from hotline.api.deps import current_user
from hotline.config import NodeSettings, split_listen
from hotline.errors import BadSignature, ConfigError, HotlineError, UnknownKey
from hotline.federation.evidence import router as federation_evidence_router
from hotline.federation.line import router as federation_router
from hotline.hygiene import Hygiene
from hotline.node import Node
from hotline.responses import ErrorDetail, ErrorResponse, Out, with_error_schemas
from hotline.web.routes.console import router as console_router
from hotline.web.routes.console import static_files as console_static

MAX_API_BODY = 1_048_576
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
        for module in (auth, node_api, messages, notices, held, calls, watch, tracks, links):
            app.include_router(module.router)
        app.include_router(links.metrics_router)
        app.include_router(evidence.router)
        app.include_router(console_router)
        app.mount("/console/static", console_static(), name="console_static")
    if side in ("federation", "both"):
        app.include_router(federation_router)
        app.include_router(federation_evidence_router)
    _add_errors(app)
    _add_body_limit(app)
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
    def health() -> dict[str, str]:
        """Liveness; ``process`` says whether this process runs the background work."""
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
    plain = all(url.lower().startswith("http://") for url in settings.endpoints)
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

    @app.middleware("http")
    async def close_after_answer(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Connection"] = "close"
        return response


def _add_hsts(app: FastAPI) -> None:
    @app.middleware("http")
    async def strict_transport(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.scheme == "https":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


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


def _add_body_limit(app: FastAPI) -> None:
    @app.middleware("http")
    async def limit_api_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length", "")
        too_big = declared.isdigit() and int(declared) > MAX_API_BODY
        if too_big and request.url.path.startswith("/api/"):
            body = {"code": "too_large", "message": f"request over {MAX_API_BODY} bytes"}
            return _answer(body, 413)
        return await call_next(request)
