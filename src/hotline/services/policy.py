"""Who may do what: the roles each HTTP action needs, in one table.

Both edges ask here: the operator API (``api/routes.current_user``) and the console
(``web/pages.require_session``), by the route's path template, so a rule covers the API
and the console page that do the same thing. Reading (GET) is open to every person's
role; a ``feed`` account (a track feed) may only report tracks. Every other method must
be listed: an action missing from the table is refused (fail closed), and
``tests/api/test_policy.py`` fails when a route is added without a rule.

Some services check further themselves: the calls service (who may request, answer and
approve), certification (by a translator, never the one who made the translation),
watch-level and FLASH approvals (never the proposer).
"""

from __future__ import annotations

from typing import Any

from hotline.errors import Forbidden

WATCH = frozenset({"officer", "commander", "admin"})
"""People on watch: send, acknowledge, clear alarms, test the link."""
TRANSLATE = frozenset({"translator", "officer", "commander", "admin"})
"""Translations (anyone who reads and writes both languages may offer one)."""
CERTIFY = frozenset({"translator"})
"""Certifying a translation: a translator's judgement, never the one who made it (the
notices service refuses that: four eyes)."""
PEOPLE = frozenset({"officer", "translator", "commander", "auditor", "admin"})
"""Every person's role (not a feed)."""
FEED = frozenset({"feed"}) | WATCH
"""Reporting tracks: a feed's own account, or a person on watch."""
CALLS = PEOPLE
"""The calls service checks its own roles (requesters, approvers) on top of this."""

RULES: dict[tuple[str, str], frozenset[str]] = {
    # operator API
    ("POST", "/api/v1/logout"): PEOPLE | {"feed"},
    ("POST", "/api/v1/messages"): WATCH,
    ("POST", "/api/v1/messages/batch"): WATCH,
    ("POST", "/api/v1/attachments"): WATCH,
    ("POST", "/api/v1/messages/{message_id}/ack"): WATCH,
    ("POST", "/api/v1/messages/{message_id}/escalation/attempts"): WATCH,
    ("POST", "/api/v1/held/{held_id}/approve"): WATCH,
    ("POST", "/api/v1/held/{held_id}/reject"): WATCH,
    ("POST", "/api/v1/notices"): WATCH,
    ("POST", "/api/v1/cases/{case_id}/tracks"): WATCH,
    ("POST", "/api/v1/notices/check"): PEOPLE,
    ("POST", "/api/v1/messages/{message_id}/translations"): TRANSLATE,
    ("POST", "/api/v1/messages/{message_id}/translations/draft"): TRANSLATE,
    ("POST", "/api/v1/translations/{translation_id}/certify"): CERTIFY,
    ("POST", "/api/v1/links/{peer}/test"): WATCH,
    ("POST", "/api/v1/links/{peer}/operator-test"): WATCH,
    ("POST", "/api/v1/operator-tests/{test_id}/answer"): WATCH,
    ("POST", "/api/v1/alarms/{alarm_id}/clear"): WATCH,
    ("POST", "/api/v1/alarms/{alarm_id}/seen"): WATCH,
    ("POST", "/api/v1/tracks"): FEED,
    ("POST", "/api/v1/safety/preauth"): frozenset({"commander"}),
    ("POST", "/api/v1/safety/preauth/{preauth_id}/revoke"): frozenset({"commander"}),
    ("POST", "/api/v1/safety/preauth/{preauth_id}/warn"): WATCH,
    ("POST", "/api/v1/conformance/{alarm_id}/notify"): WATCH,
    ("DELETE", "/api/v1/tracks"): FEED,
    ("POST", "/api/v1/log/checkpoint/exchange"): WATCH | {"auditor"},
    ("POST", "/api/v1/calls/requests"): CALLS,
    ("POST", "/api/v1/calls/requests/{request_id}/answer"): CALLS,
    ("POST", "/api/v1/calls/requests/{request_id}/withdraw"): CALLS,
    ("POST", "/api/v1/calls"): CALLS,
    ("POST", "/api/v1/calls/{call_id}/privacy"): CALLS,
    ("POST", "/api/v1/calls/{call_id}/readouts"): CALLS,
    ("POST", "/api/v1/readouts/{readout_id}/publish"): CALLS,
    ("POST", "/api/v1/readouts/{readout_id}/approve"): CALLS,
    ("POST", "/api/v1/readouts/{readout_id}/reject"): CALLS,
    ("POST", "/api/v1/watch/changes"): CALLS,
    ("POST", "/api/v1/watch/changes/{change_id}/approve"): CALLS,
    ("POST", "/api/v1/watch/changes/{change_id}/reject"): CALLS,
    # console
    ("POST", "/console/logout"): PEOPLE | {"feed"},
    ("POST", "/console/lang"): PEOPLE,
    ("POST", "/console/messages/{message_id}/ack"): WATCH,
    ("POST", "/console/messages/{message_id}/escalation/attempts"): WATCH,
    ("POST", "/console/operator-tests/{test_id}/answer"): WATCH,
    ("POST", "/console/held/{held_id}/approve"): WATCH,
    ("POST", "/console/held/{held_id}/reject"): WATCH,
    ("POST", "/console/compose/text"): WATCH,
    ("POST", "/console/cases"): WATCH,
    ("POST", "/console/cases/{case_id}/account"): WATCH,
    ("POST", "/console/cases/{case_id}/tracks"): WATCH,
    ("POST", "/console/compose/code"): WATCH,
    ("POST", "/console/compose/check"): PEOPLE,
    ("POST", "/console/compose/notice"): WATCH,
    ("POST", "/console/messages/{message_id}/translations"): TRANSLATE,
    ("POST", "/console/translations/{translation_id}/certify"): CERTIFY,
    ("POST", "/console/messages/{message_id}/draft"): TRANSLATE,
    ("POST", "/console/links/{peer}/test"): WATCH,
    ("POST", "/console/alarms/{alarm_id}/clear"): WATCH,
    ("POST", "/console/alarms/{alarm_id}/seen"): WATCH,
    ("POST", "/console/handover"): WATCH,
    ("POST", "/console/handover/{handover_id}/take-over"): WATCH,
    ("POST", "/console/handover/{handover_id}/withdraw"): WATCH,
    ("POST", "/console/evidence/exchange"): WATCH | {"auditor"},
    ("POST", "/console/evidence/bundle"): PEOPLE,
    ("POST", "/console/calls/requests"): CALLS,
    ("POST", "/console/calls/requests/{request_id}/answer"): CALLS,
    ("POST", "/console/calls/requests/{request_id}/withdraw"): CALLS,
    ("POST", "/console/calls/requests/{request_id}/record"): CALLS,
    ("POST", "/console/calls/{call_id}/privacy"): CALLS,
    ("POST", "/console/calls/{call_id}/readouts"): CALLS,
    ("POST", "/console/readouts/{readout_id}/publish"): CALLS,
    ("POST", "/console/readouts/{readout_id}/approve"): CALLS,
    ("POST", "/console/readouts/{readout_id}/reject"): CALLS,
    ("POST", "/console/watch-level/changes"): CALLS,
    ("POST", "/console/watch-level/changes/{change_id}/{decision}"): CALLS,
}

#: Paths a ``feed`` account may use (anything else is refused to it).
FEED_PATHS = frozenset({"/api/v1/tracks", "/api/v1/logout", "/api/v1/status"})

#: Paths outside the table: logging in needs no role (there is no user yet).
OPEN = frozenset({("POST", "/api/v1/login"), ("POST", "/console/login")})

#: What a browser with no console session may do besides logging in: choose the language
#: of the login page, and log out (which then only drops a stale cookie). Both change
#: nothing on the node; with a session, they are checked against :data:`RULES`.
VISITOR = frozenset({("POST", "/console/lang"), ("POST", "/console/logout")})


def route_template(path: str, route: Any) -> str:
    """The full path template of the route that matched ``path``.

    A route of an included router knows only its own part (``/compose/text``); the prefix
    it was included under (``/console``) is what the request path has before that part.
    """
    template = getattr(route, "path", None)
    regex = getattr(route, "path_regex", None)
    if not isinstance(template, str) or regex is None:
        return path
    for k, char in enumerate(path):
        if char == "/" and regex.fullmatch(path[k:]):
            return path[:k] + template
    return template


def needed(method: str, path: str) -> frozenset[str] | None:
    """The roles that may use ``method`` on the route ``path`` (None: open to anyone)."""
    if (method, path) in OPEN:
        return None
    if method in ("GET", "HEAD"):
        return PEOPLE | ({"feed"} if path in FEED_PATHS else frozenset())
    return RULES.get((method, path), frozenset())


def check_visitor(method: str, path: str) -> None:
    """Refuse a request with no user unless :data:`VISITOR` (or :data:`OPEN`) allows it.

    >>> check_visitor("POST", "/console/lang")
    >>> try:
    ...     check_visitor("POST", "/console/compose/text")
    ... except Forbidden as exc:
    ...     print(exc.message)
    no one may do POST /console/compose/text without logging in
    """
    if (method, path) in VISITOR or (method, path) in OPEN:
        return
    raise Forbidden(f"no one may do {method} {path} without logging in", hint="log in first")


def check(method: str, path: str, user: str, roles: tuple[str, ...]) -> None:
    """Refuse ``user`` unless one of ``roles`` may use ``method`` on ``path``.

    >>> check("POST", "/api/v1/messages", "duty1", ("officer",))
    >>> try:
    ...     check("POST", "/api/v1/messages", "ivanova", ("translator",))
    ... except Forbidden as exc:
    ...     print(exc.message)
    ...     print(exc.hint)
    ivanova (translator) may not do POST /api/v1/messages
    this needs the role admin or commander or officer
    """
    allowed = needed(method, path)
    if allowed is None or allowed & set(roles):
        return
    hint = (
        f"this needs the role {' or '.join(sorted(allowed))}"
        if allowed
        else "no role may do this (the action is not in hotline/services/policy.py)"
    )
    raise Forbidden(f"{user} ({', '.join(roles)}) may not do {method} {path}", hint=hint)
