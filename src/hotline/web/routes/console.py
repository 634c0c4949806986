"""The operator console at ``/console``: login, the watch (inbox), live updates.

The pages call the node's services directly, server-side, as the operator API does;
they never go through the JSON API. The other pages live beside this module
(``routes_message.py``, ``routes_compose.py``, ``routes_watch.py``) and are included in
:data:`router`, which ``hotline.app`` mounts with :func:`static_files`.

Live updates: every page opens ``/console/events`` (server-sent events). The stream
polls :func:`hotline.web.queries.change_stamp` once a second and sends ``changed``
whenever anything moved (a message, a receipt, an acknowledgement, an alarm); parts of
the page that show live state reload themselves with htmx on that event. A stream ends
after :data:`STREAM_S` seconds and the browser reconnects at once (``Last-Event-ID``
carries the last stamp seen, so nothing is missed between two streams), which also
lets the server shut down without waiting for open consoles. A second with nothing new
sends a ``beat``: the console declares its node lost when neither arrives for 2.2 s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from hotline.errors import AuthError, Busy, TooManyAttempts
from hotline.render.i18n import LANGS
from hotline.services import policy
from hotline.services.search import MessageFilter
from hotline.web import queries
from hotline.web.auth import (
    Session,
    client_address,
    end_session,
    lang_of,
    node_of,
    remember_lang,
    start_session,
)
from hotline.web.i18n import TEMPLATES
from hotline.web.pages import ConsoleRoute, back_to, now_of, render, require_session, session_of
from hotline.web.routes import calls as routes_calls
from hotline.web.routes import cases as routes_cases
from hotline.web.routes import compose as routes_compose
from hotline.web.routes import evidence as routes_evidence
from hotline.web.routes import handover as routes_handover
from hotline.web.routes import message as routes_message
from hotline.web.routes import watch as routes_watch
from hotline.web.views import messages as views

STATIC = TEMPLATES.parent / "static"
logger = logging.getLogger(__name__)
POLL_S = 1.0
STREAM_S = 20.0

router = APIRouter(prefix="/console", route_class=ConsoleRoute, include_in_schema=False)
SessionDep = Annotated[Session, Depends(require_session)]


def static_files() -> StaticFiles:
    """The console's own scripts and styles and the vendored packages (``/console/static``)."""
    if not (STATIC / "vendor" / ".stamp").exists():
        logger.warning(
            "the console's vendored packages are missing from %s: run `bash scripts/vendor.sh`"
            " (scripts/setup.sh does); pages will load without their scripts and map data",
            STATIC / "vendor",
        )
    return StaticFiles(directory=STATIC)


# -- login, logout, language ---------------------------------------------------------------


@router.get("/login")
def login_page(request: Request) -> Response:
    if session_of(request) is not None:
        return RedirectResponse("/console", status_code=303)
    return render(request, "login.html", None, lang=lang_of(request), error=None)


@router.post("/login")
async def login(
    request: Request,
    user: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
) -> Response:
    try:
        token, _expires = await node_of(request).auth.login_async(
            user.strip(), password, source=client_address(request)
        )
    except AuthError:
        return render(
            request, "login.html", None, status_code=401, lang=lang_of(request), error=True
        )
    except (TooManyAttempts, Busy) as exc:
        page = render(
            request,
            "login.html",
            None,
            status_code=exc.http_status,
            lang=lang_of(request),
            paused=True,
            busy=isinstance(exc, Busy),
        )
        page.headers.update(exc.headers())
        return page
    response = RedirectResponse("/console", status_code=303)
    start_session(request, response, token)
    return response


def visitor_or_session(request: Request) -> Session | None:
    """The session if there is one, checked against the policy table like every action;
    without one, the table's list of what a visitor may do (``policy.VISITOR``)."""
    session = session_of(request)
    path = policy.route_template(request.url.path, request.scope.get("route"))
    if session is None:
        policy.check_visitor(request.method, path)
    else:
        policy.check(request.method, path, session.user.name, session.user.roles)
    return session


VisitorDep = Annotated[Session | None, Depends(visitor_or_session)]


@router.post("/logout")
def logout(request: Request, _session: VisitorDep) -> Response:
    response = RedirectResponse("/console/login", status_code=303)
    end_session(request, response)
    return response


@router.post("/lang")
def switch_lang(
    request: Request,
    _session: VisitorDep,
    lang: Annotated[str, Form()],
    back: Annotated[str, Form()] = "/console",
) -> Response:
    if lang not in LANGS:
        lang = lang_of(request)
    # only a path on this console: never an open redirect
    target = back if back.startswith("/console") and "//" not in back else "/console"
    response = RedirectResponse(target, status_code=303)
    remember_lang(request, response, lang)
    return response


# -- the watch: inbox and outbox -----------------------------------------------------------


def _inbox_context(request: Request, session: Session) -> dict[str, Any]:
    """The Watch page's sections; under a search (``?q=…&state=…``, see
    ``services/search.py``), only what matches."""
    node, now = node_of(request), now_of(request)
    found = MessageFilter.parse(request.query_params)
    if found.active():
        hits = views.search(node, session.lang, now, found)
        return {
            "held": hits.held,
            "waiting": hits.waiting,
            "own_overdue": views.own_overdue(hits.waiting),
            "handled": hits.handled,
            "sent": hits.sent,
            "search": found,
            "search_query": urlencode(found.query()),
        }
    waiting, handled = views.inbox(node, session.lang, now)
    return {
        "held": views.held(node, session.lang),
        "waiting": waiting,
        "own_overdue": views.own_overdue(waiting),
        "handled": handled,
        "sent": views.outbox(node, session.lang, now),
        "search": found,
        "search_query": "",
    }


def _watch_url(request: Request) -> str:
    """The Watch page, under the search the action was taken from."""
    search = MessageFilter.parse(request.query_params).query()
    return "/console?" + urlencode(search) if search else "/console"


@router.get("")
def watch(request: Request, session: SessionDep) -> Response:
    return render(request, "watch.html", session, **_inbox_context(request, session))


@router.get("/fragments/inbox")
def inbox_fragment(request: Request, session: SessionDep) -> Response:
    return render(request, "_inbox.html", session, **_inbox_context(request, session))


@router.get("/fragments/banner")
def banner_fragment(request: Request, session: SessionDep) -> Response:
    banner = views.banner(node_of(request), session.lang, now_of(request))
    return render(request, "_banner.html", session, banner=banner)


@router.post("/messages/{message_id}/ack")
def acknowledge(request: Request, message_id: str, session: SessionDep) -> Response:
    views.acknowledge(node_of(request), message_id, session.user.name)
    return back_to(
        request,
        _watch_url(request),
        lambda: render(request, "_inbox.html", session, **_inbox_context(request, session)),
    )


@router.post("/operator-tests/{test_id}/answer")
def answer_operator_test(request: Request, test_id: str, session: SessionDep) -> Response:
    """An operator test from the peer, answered from the queue: the answer is its own
    acknowledgement (the test leaves the queue)."""
    node_of(request).operator_tests.answer(test_id, session.user.name)
    return back_to(
        request,
        _watch_url(request),
        lambda: render(request, "_inbox.html", session, **_inbox_context(request, session)),
    )


@router.post("/held/{held_id}/approve")
def approve_held(request: Request, held_id: str, session: SessionDep) -> Response:
    """The second person's approval of a held FLASH message: it is sent now."""
    done = node_of(request).held.approve(held_id, session.user.name)
    return back_to(request, f"/console/messages/{done['message_id']}")


@router.post("/held/{held_id}/reject")
def reject_held(
    request: Request,
    held_id: str,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    node_of(request).held.reject(held_id, session.user.name, reason)
    return back_to(
        request,
        "/console",
        lambda: render(request, "_inbox.html", session, **_inbox_context(request, session)),
    )


# -- live updates --------------------------------------------------------------------------


def _stamp_text(stamp: tuple[int, ...]) -> str:
    return "-".join(str(n) for n in stamp)


async def _changes(request: Request, since: str) -> AsyncIterator[str]:
    node = node_of(request)
    yield f"retry: 1000\nid: {since}\n\n"
    last, ends = since, time.monotonic() + STREAM_S
    while time.monotonic() < ends and not await request.is_disconnected():
        stamp = _stamp_text(await run_in_threadpool(queries.change_stamp, node))
        if stamp != last:
            last = stamp
            yield f"id: {stamp}\nevent: changed\ndata: {stamp}\n\n"
        else:  # a heartbeat: the console declares the node lost when these stop (3 s)
            yield f"event: beat\ndata: {stamp}\n\n"
        await asyncio.sleep(POLL_S)


@router.get("/events")
def events(request: Request, session: SessionDep, since: str = "") -> Response:
    since = request.headers.get("last-event-id") or since
    return StreamingResponse(
        _changes(request, since[:64]),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


router.include_router(routes_message.router)
router.include_router(routes_compose.router)
router.include_router(routes_watch.router)
router.include_router(routes_calls.router)
router.include_router(routes_evidence.router)
router.include_router(routes_cases.router)
router.include_router(routes_handover.router)
