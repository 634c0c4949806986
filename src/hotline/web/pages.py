"""How every console page is answered: sessions, CSRF, errors, templates, headers.

Console routes use :class:`ConsoleRoute`, which wraps each handler so that

* a POST is refused unless it passes the origin and CSRF checks (``web/auth.py``);
* no session means the login page (a redirect; for an htmx request, ``HX-Redirect``);
* a :class:`~hotline.errors.HotlineError` becomes a page (or an htmx fragment) that says
  what went wrong, in the operator's language where the words are the console's own,
  instead of the operator API's JSON;
* every answer carries a strict Content-Security-Policy: scripts and styles only from
  the node itself, nothing from elsewhere, no framing.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from hotline.errors import HotlineError, ValidationError
from hotline.services import policy
from hotline.web import queries
from hotline.web.auth import LoginRequired, Session, check_csrf, current_session, node_of
from hotline.web.i18n import environment, translator
from hotline.web.views import calls as calls_views
from hotline.web.views import messages as views

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
ENV = environment()

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def session_of(request: Request) -> Session | None:
    """The request's session, looked up once and kept on the request."""
    if not hasattr(request.state, "console_session"):
        request.state.console_session = current_session(request)
    found: Session | None = request.state.console_session
    return found


def require_session(request: Request) -> Session:
    """FastAPI dependency: the operator's session, or the login page."""
    session = session_of(request)
    if session is None:
        raise LoginRequired()
    path = policy.route_template(request.url.path, request.scope.get("route"))
    policy.check(request.method, path, session.user.name, session.user.roles)
    return session


def now_of(request: Request) -> datetime:
    return node_of(request).clock.now()


def render(
    request: Request,
    template: str,
    session: Session | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` with what every page needs (language, user, node, banner)."""
    node = node_of(request)
    lang = session.lang if session else context.pop("lang", node.identity.lang)
    now = now_of(request)
    full_page = not template.startswith("_")
    base: dict[str, Any] = {
        "request": request,
        "_": translator(lang),
        "lang": lang,
        "session": session,
        "identity": node.identity,
        "now": now,
        "path": request.url.path,
        "marking": node.settings.marking,
    }
    if full_page and session is not None:
        base["banner"] = views.banner(node, lang, now)
        base["stamp"] = "-".join(str(n) for n in queries.change_stamp(node))
        base["watch_chip"] = calls_views.watch_chip(node)
    html = ENV.get_template(template).render(base | context)
    return HTMLResponse(html, status_code=status_code)


def back_to(request: Request, url: str, fragment: Callable[[], Response] | None = None) -> Response:
    """After a POST: the updated fragment for htmx, else a redirect (303) to ``url``."""
    if fragment is not None and is_htmx(request):
        return fragment()
    return RedirectResponse(url, status_code=303)


def _login_redirect(request: Request) -> Response:
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": "/console/login"})
    return RedirectResponse("/console/login", status_code=303)


def error_page(request: Request, exc: HotlineError) -> Response:
    """A refusal shown to a person: the message, the hint, and the way back."""
    session = session_of(request)
    template = "_error.html" if is_htmx(request) else "error.html"
    return render(request, template, session, status_code=exc.http_status, error=exc)


def _validation(exc: RequestValidationError) -> ValidationError:
    problems = []
    for error in exc.errors()[:10]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        problems.append(f"{where or 'form'}: {error.get('msg')}")
    return ValidationError("; ".join(problems))


class ConsoleRoute(APIRoute):
    """An APIRoute that answers like a web page (see the module docstring)."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            try:
                if request.method == "POST":
                    await check_csrf(request, session_of(request))
                response = await handler(request)
            except LoginRequired:
                response = _login_redirect(request)
            except RequestValidationError as exc:
                response = error_page(request, _validation(exc))
            except HotlineError as exc:
                response = error_page(request, exc)
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return run
