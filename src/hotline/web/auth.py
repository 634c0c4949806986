"""Console sessions and CSRF protection.

A console session is the node's own bearer token (``Auth.login``: 256 random bits, stored
only as its SHA-256, expiring after ``token_ttl_s``) kept in a cookie the page's scripts
cannot read: ``HttpOnly``, ``SameSite=Strict``, ``Secure`` when the console is reached
over HTTPS, ``Path=/console``. The cookie is opaque: it names nothing, and logging out
revokes the token on the node, so a copied cookie dies with the session.

Every POST is checked twice against cross-site requests:

* its ``Origin`` (or, failing that, ``Referer``) must be this console's own origin, when
  the browser sends one (every current browser does on POST); ``Origin: null`` is
  refused (see :func:`check_origin`);
* it must carry the session's CSRF token, in the ``csrf`` form field or the
  ``X-CSRF-Token`` header (htmx sends it from the page). The token is an HMAC of the
  session token, so it cannot be guessed without the cookie, which another site's page
  cannot read.

The login form itself has no session yet: ``SameSite=Strict`` and the origin check
protect it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request, Response

from hotline import seclog
from hotline.errors import AuthError, Forbidden
from hotline.errors import LoginRequired as LoginRequired  # re-exported for web.pages
from hotline.node import Node
from hotline.services.auth import User
from hotline.web.i18n import pick_lang

SESSION_COOKIE = "hotline_session"
LANG_COOKIE = "hotline_lang"
COOKIE_PATH = "/console"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
_CSRF_KEY = b"hotline console csrf v1"


@dataclass(frozen=True)
class Session:
    """Who is at the console, in which language, and the CSRF token of their forms."""

    user: User
    token: str
    lang: str

    @property
    def csrf(self) -> str:
        return csrf_token(self.token)


def csrf_token(session_token: str) -> str:
    """The CSRF token bound to one session."""
    return hmac.new(_CSRF_KEY, session_token.encode("utf-8"), hashlib.sha256).hexdigest()


def node_of(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def client_address(request: Request) -> str:
    """The address the request came from, as the server saw the connection (no proxy
    header is trusted): what password guessing is counted against."""
    return request.client.host if request.client else "unknown"


def lang_of(request: Request) -> str:
    """The interface language chosen in this browser, else the node's own language."""
    return pick_lang(request.cookies.get(LANG_COOKIE), node_of(request).identity.lang)


def current_session(request: Request) -> Session | None:
    """The valid session of this request, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        user = node_of(request).auth.authenticate(token)
    except AuthError:
        return None
    seclog.identify(user.name)
    return Session(user=user, token=token, lang=lang_of(request))


def require_session(request: Request) -> Session:
    """The session, or :class:`LoginRequired`."""
    session = current_session(request)
    if session is None:
        raise LoginRequired()
    return session


def check_origin(request: Request) -> None:
    """Refuse a POST whose ``Origin`` (or, without one, ``Referer``) is not this console.

    ``Origin: null`` (a sandboxed frame, a ``data:`` page, a redirect across sites) is
    refused like a foreign site. A request with neither header is let through: every
    current browser sends ``Origin`` on a cross-site POST, so such a request does not
    come from another site's page in a person's browser (it is a command-line client,
    say), and the CSRF token still applies to it once there is a session.
    """
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return
    parts = urlsplit(source)
    if source == "null" or (parts.scheme, parts.netloc) != (
        request.url.scheme,
        request.url.netloc,
    ):
        raise Forbidden(
            "this form was sent from another site",
            hint="open the console at its own address and send the form again",
        )


async def check_csrf(request: Request, session: Session | None) -> None:
    """Origin check, then (with a session) the session's CSRF token must be present."""
    check_origin(request)
    if session is None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not hmac.compare_digest(sent, session.csrf):
        raise Forbidden(
            "the form's security token is missing or stale",
            hint="reload the page and send the form again",
        )


def start_session(request: Request, response: Response, token: str) -> None:
    ttl = node_of(request).settings.token_ttl_s
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def end_session(request: Request, response: Response) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        node_of(request).auth.logout(token, source=client_address(request))
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def remember_lang(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        pick_lang(lang, node_of(request).identity.lang),
        max_age=365 * 86400,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
