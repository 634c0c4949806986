"""The node's HTTP application: operator API, federation API, health, errors.

``create_app(node)`` builds the ASGI app for one :class:`~hotline.node.Node`; the
lifespan starts the node's background jobs (leadership, then — in the active process —
the scheduler, checkpoint exchange and delivery workers, see
:mod:`hotline.services.runtime.jobs`) and stops them, threads joined, on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline import __version__, seclog
from hotline.api import auth, calls, evidence, held, links, messages, notices, tracks, watch
from hotline.api import node as node_api
from hotline.api.deps import current_user
from hotline.errors import BadSignature, HotlineError, UnknownKey
from hotline.federation.evidence import router as federation_evidence_router
from hotline.federation.line import router as federation_router
from hotline.hygiene import Hygiene
from hotline.node import Node
from hotline.responses import ErrorDetail, ErrorResponse, Out, with_error_schemas
from hotline.web.routes.console import router as console_router
from hotline.web.routes.console import static_files as console_static

MAX_API_BODY = 1_048_576


def create_app(node: Node, *, start_workers: bool = True) -> FastAPI:
    logs = _open_logs(node)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        seclog.install(logs)  # the node's background threads log there too
        if start_workers:
            node.start()
        try:
            yield
        finally:
            node.stop()
            seclog.uninstall(logs)
            logs.close()

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
    _add_body_limit(app)
    app.add_middleware(Hygiene, logs=logs)  # last: the outermost of the app's own

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
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
    return _answer(exc.to_dict(), exc.http_status, headers | exc.headers() or None)


def _answer(
    error: dict[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """Every error answer, in the one shape of :class:`ErrorResponse` (``docs/api.md``)."""
    body = ErrorResponse(error=ErrorDetail.model_validate(error))
    return JSONResponse(body.model_dump(exclude_unset=True), status_code=status, headers=headers)


def _open_logs(node: Node) -> seclog.NodeLogs:
    """The node's security and access logs, as its settings say (``hotline.seclog``)."""
    settings = node.settings
    return seclog.open_logs(
        settings.directory,
        node.identity.party,
        security=settings.security_log,
        access=settings.access_log,
    )


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
