"""The calls' labels: every one is in both catalogs, Russian translated, placeholders kept;
and every calls route needs a token."""

from __future__ import annotations

import string
from pathlib import Path

import httpx
from babel.messages.extract import extract_from_file
from fastapi.routing import APIRoute

from hotline.api.calls_routes import router
from hotline.app import create_app
from hotline.render.i18n import EXTRACT_KEYWORDS, gettext
from hotline.testing import ServerThread
from tests.conftest import MakeNode
from tests.notices.test_i18n import catalog

SOURCE = Path(__file__).resolve().parents[2] / "src" / "hotline" / "services" / "calls_render.py"


def labels() -> set[str]:
    return {
        str(message)
        for _line, message, _comments, _context in extract_from_file(
            "python", str(SOURCE), keywords=EXTRACT_KEYWORDS
        )
    }


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_calls_label_is_in_both_catalogs_and_translated() -> None:
    used = labels()
    assert {"CALL REQUEST", "Details kept private by mutual agreement."} <= used
    english, russian = catalog("en"), catalog("ru")
    assert (set(), set()) == (used - set(english), used - set(russian))
    bad = [m for m in used if not russian[m] or placeholders(m) != placeholders(russian[m])]
    assert [] == bad


def test_a_russian_label_comes_from_the_catalog() -> None:
    assert "ОСТАВЛЕН БЕЗ ОТВЕТА" == gettext("ru", "UNANSWERED")


def test_every_calls_route_needs_a_token(make_node: MakeNode) -> None:
    routes = sorted(
        (method, route.path.replace("{", "").replace("}", ""))
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    )
    with ServerThread(create_app(make_node("us"), start_workers=False)) as server:
        answers = {
            (method, path): httpx.request(method, server.url + path, json={}).status_code
            for method, path in routes
        }
    assert len(answers) >= 20
    assert {401} == set(answers.values()), answers
