"""What every HTTP answer of a node gets, whatever route gave it: the hygiene middleware.

:class:`Hygiene` is a pure ASGI middleware, the outermost of the app's own (``create_app``
adds it last). For every request it

* binds the node's logs and the request's facts (:func:`hotline.seclog.request`), so a
  security event raised while answering names the source address, path and user;
* adds the headers every answer needs (:data:`API_HEADERS`: ``no-store``, ``nosniff``, no
  framing, no referrer); console pages keep their own stricter set (``web/pages.py``),
  static files get ``nosniff``;
* gives every 405 an ``Allow`` header listing every method the path has;
* refuses a NUL character in the path or query (400 ``malformed``: no database column
  holds one the same way on SQLite and PostgreSQL);
* turns an exception no handler took into a 500 in the one error shape, with no
  traceback in the body (the traceback goes to the node's log, an ``internal_error`` to
  the security log); a ``RecursionError`` (input nested deeper than Python can follow) is
  a 400 ``malformed`` instead;
* writes one access-log line (method, path without the query, status, bytes, duration,
  source, user; status 499 when the client hung up before its request was read) and, for
  a 401 or 403 that no service recorded, a security event (``auth_refused``,
  ``forbidden``; ``peer_refused`` for any refusal on ``/federation``), with the error's
  code.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.routing import Mount, compile_path

from hotline import seclog
from hotline.errors import HotlineError, InternalError, MalformedMessage

logger = logging.getLogger("hotline.app")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: On every answer that is not a console page or a static file (those set their own).
API_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
STATIC_HEADERS = {"X-Content-Type-Options": "nosniff"}
STATIC_PREFIX = "/console/static"
#: The answer whose body is a :class:`~hotline.federation.line.DeliveryAnswer`.
DELIVERY_PATH = "/federation/v1/envelopes"
#: How much of an error answer is read for its code (error answers are small).
MAX_ERROR_BODY = 65_536
#: The status the access log gives a request whose client left before it was read
#: (nginx's convention; nothing is sent).
CLIENT_GONE = 499


def error_body(path: str, error: HotlineError) -> bytes:
    """The one error shape (``DeliveryAnswer`` on the delivery route)."""
    answer: dict[str, Any] = {"receipts": []} if path == DELIVERY_PATH else {}
    answer["error"] = error.to_dict()
    return json.dumps(answer).encode("utf-8")


def route_table(routes: Any, prefix: str = "") -> Iterator[tuple[re.Pattern[str], set[str]]]:
    """Every route's full path pattern and methods, through included routers and mounts."""
    for item in routes:
        inner = getattr(item, "original_router", None)  # a router included by FastAPI
        if inner is not None:
            context = getattr(item, "include_context", None)
            yield from route_table(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif isinstance(item, Mount):
            yield compile_path(prefix + item.path + "/{rest:path}")[0], {"GET", "HEAD"}
        elif isinstance(getattr(item, "path", None), str):
            methods = getattr(item, "methods", None) or {"GET", "HEAD"}
            yield compile_path(prefix + item.path)[0], set(methods)


def allowed_methods(scope: Scope) -> list[str]:
    """Every method some route of the app answers on this request's path."""
    router = getattr(scope.get("app"), "router", None)
    path = scope.get("path", "")
    methods: set[str] = set()
    for pattern, declared in route_table(getattr(router, "routes", ())):
        if pattern.match(path):
            methods |= declared
    return sorted(methods)


def _code_of(body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


class Hygiene:
    """The hygiene middleware (see the module docstring)."""

    def __init__(self, app: ASGIApp, logs: seclog.NodeLogs, side: str | None = None) -> None:
        """``side``: which listener this app serves (e.g. ``operator``, ``federation``),
        written in each access-log line when given; both sides share the node's ``logs``."""
        self.app = app
        self.logs = logs
        self.side = side

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        client = scope.get("client")
        path: str = scope.get("path", "")
        facts = seclog.RequestFacts(
            method=scope.get("method", ""), path=path, source=client[0] if client else None
        )
        answer: dict[str, Any] = {"status": 0, "bytes": 0, "body": bytearray(), "keep": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = status = message["status"]
                headers = MutableHeaders(scope=message)
                wanted = STATIC_HEADERS if path.startswith(STATIC_PREFIX) else API_HEADERS
                for name, value in wanted.items():
                    headers.setdefault(name, value)
                if status == 405:
                    headers["Allow"] = ", ".join(allowed_methods(scope))
                answer["keep"] = status >= 400 and "json" in headers.get("content-type", "")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                answer["bytes"] += len(chunk)
                if answer["keep"] and len(answer["body"]) < MAX_ERROR_BODY:
                    answer["body"] += chunk[: MAX_ERROR_BODY - len(answer["body"])]
            await send(message)

        with seclog.request(self.logs, facts):
            try:
                if "\x00" in path or b"%00" in scope.get("query_string", b""):
                    raise MalformedMessage("the request's path or query holds a NUL character")
                await self.app(scope, receive, send_with_headers)
            except ClientDisconnect:  # the client hung up before its request was read
                answer["status"] = answer["status"] or CLIENT_GONE
            except Exception as exc:
                if answer["status"]:  # the answer had begun: nothing more can be said
                    logger.exception("answering %s %s failed midway", facts.method, path)
                    raise
                await self._last_resort(exc, path, facts, send_with_headers)
            finally:
                self._record(facts, answer, started_at)

    async def _last_resort(
        self, exc: Exception, path: str, facts: seclog.RequestFacts, send: Send
    ) -> None:
        error: HotlineError
        if isinstance(exc, HotlineError):  # refused here, before any route
            error = exc
        elif isinstance(exc, RecursionError):
            error = MalformedMessage("the request is nested too deeply to be read")
        else:
            error = InternalError(
                "the node failed to answer this request; the failure is in its log"
            )
            logger.error("unexpected failure answering %s %s", facts.method, path, exc_info=exc)
            seclog.event("internal_error", error=type(exc).__name__)
        body = error_body(path, error)
        await send(
            {
                "type": "http.response.start",
                "status": error.http_status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _record(
        self, facts: seclog.RequestFacts, answer: dict[str, Any], started_at: float
    ) -> None:
        status: int = answer["status"]
        code = _code_of(bytes(answer["body"])) if answer["body"] else None
        if facts.path.startswith("/federation/"):
            if status >= 400 and "peer_refused" not in facts.events:
                seclog.event("peer_refused", code=code, status=status)
        elif status in (401, 403) and not facts.events:
            name = "auth_refused" if status == 401 else "forbidden"
            default = "unauthenticated" if status == 401 else "forbidden"
            seclog.event(name, code=code or default, status=status)
        record: dict[str, Any] = {
            "method": facts.method,
            "path": facts.path,
            "status": status,
            "bytes": answer["bytes"],
            "duration_ms": round((time.perf_counter() - started_at) * 1000, 1),
            "source": facts.source,
        }
        if facts.user is not None:
            record["user"] = facts.user
        if self.side is not None:
            record["side"] = self.side
        self.logs.access.write("request", record)
