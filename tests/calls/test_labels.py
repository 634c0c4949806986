"""The calls' labels: every one is in both catalogs, Russian translated, placeholders kept;
and every calls route needs a token."""

from __future__ import annotations

import string
from pathlib import Path

import httpx
from babel.messages.extract import extract_from_file
from fastapi.routing import APIRoute

from hotline.api.calls import router
from hotline.api.watch import router as watch_router
from hotline.app import create_app
from hotline.render.calls import render_request
from hotline.render.i18n import EXTRACT_KEYWORDS, gettext
from hotline.testing import HTTP_TIMEOUT_S, ServerThread
from tests.conftest import MakeNode
from tests.notices.test_i18n import catalog

SOURCE = Path(__file__).resolve().parents[2] / "src" / "hotline" / "render" / "calls.py"


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
        for route in [*router.routes, *watch_router.routes]
        if isinstance(route, APIRoute)
        for method in route.methods
    )
    with ServerThread(create_app(make_node("us"), start_workers=False)) as server:
        answers = {
            (method, path): httpx.request(
                method, server.url + path, json={}, timeout=HTTP_TIMEOUT_S
            ).status_code
            for method, path in routes
        }
    assert len(answers) >= 20
    assert {401} == set(answers.values()), answers


def test_a_call_request_reads_the_same_in_both_languages_precedence_included() -> None:
    request = {
        "state": "declined",
        "precedence": "PRIORITY",
        "requester": {
            "party": "us",
            "id": "secdef",
            "name_en": "Lloyd Austin",
            "name_ru": "Ллойд Остин",
            "title_en": "Secretary of Defense",
            "title_ru": "Министр обороны",
        },
        "counterpart": {
            "party": "ru",
            "id": "minister",
            "name_en": "Sergei Shoigu",
            "name_ru": "Сергей Шойгу",
            "title_en": "Minister of Defence",
            "title_ru": "Министр обороны",
        },
        "topics": ["Risk reduction", "Annex [/a] review"],
        "slots": [{"start": "2022-05-13T14:00:00.000Z", "minutes": 60}],
        "answer_by": "2022-05-12T00:00:00.000Z",
        "accepted_slot": None,
        "reason": "Not now",
    }
    assert (
        "CALL REQUEST\n"
        "FROM: Secretary of Defense Lloyd Austin (us)\n"
        "TO: Minister of Defence Sergei Shoigu (ru)\n"
        "PRECEDENCE: PRIORITY\n"
        "TOPICS: Risk reduction; Annex [/a] review\n"
        "PROPOSED TIMES (UTC):\n"
        "  131400Z MAY 22, 60 MIN\n"
        "ANSWER BY: 120000Z MAY 22\n"
        "STATE: DECLINED\n"
        "REASON: Not now"
    ) == render_request(request, "en")
    assert (
        "ЗАПРОС НА ТЕЛЕФОННЫЙ РАЗГОВОР\n"
        "ОТ: Министр обороны Ллойд Остин (us)\n"
        "КОМУ: Министр обороны Сергей Шойгу (ru)\n"
        "СРОЧНОСТЬ: ВНЕ ОЧЕРЕДИ\n"
        "ТЕМЫ: Risk reduction; Annex [/a] review\n"
        "ПРЕДЛАГАЕМОЕ ВРЕМЯ (UTC):\n"
        "  131400Z МАЙ 22, 60 МИН\n"
        "ОТВЕТИТЬ ДО: 120000Z МАЙ 22\n"
        "СОСТОЯНИЕ: ОТКЛОНЁН\n"
        "ПРИЧИНА: Not now"
    ) == render_request(request, "ru")
