"""The answer to an observer invitation: accepted (who, when, where) or declined (why),
rendered in English and Russian, and on a node it must answer an invitation the other
side sent on the same line (issue 16, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.domain.notices.models import parse_notice
from hotline.errors import ValidationError
from hotline.render.notices import render, summary
from tests.conftest import Pair
from tests.services.test_notices import example, sent_example

from .conftest import load_example

INVITATION = "e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b"
MSG = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
AT = datetime(2027, 7, 22, 14, 0, tzinfo=UTC)

ACCEPT_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
DTG: 221400Z JUL 27
SUBJECT: ANSWER TO OBSERVER INVITATION
1. INVITATION REFERENCE: MSG ID e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
2. ANSWER: INVITATION ACCEPTED
3. OBSERVERS: 2
3.1. Lt Col John A. Carter
3.2. Maj Emily R. Novak
4. ARRIVAL POINT: Minsk National Airport
    53°53'00"N 028°02'00"E, MGRS 35U NV 67922 71036
5. ARRIVAL TIME: 111000Z SEP 27
6. REASON: NONE
END OF MESSAGE
"""

ACCEPT_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
ДАТА-ВРЕМЯ: 221400Z ИЮЛ 27
ТЕМА: ОТВЕТ НА ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ
1. ССЫЛКА НА ПРИГЛАШЕНИЕ: СООБЩЕНИЕ e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
2. ОТВЕТ: ПРИГЛАШЕНИЕ ПРИНЯТО
3. НАБЛЮДАТЕЛИ: 2
3.1. Lt Col John A. Carter
3.2. Maj Emily R. Novak
4. ПУНКТ ПРИБЫТИЯ: Minsk National Airport
    53°53'00" с.ш. 028°02'00" в.д., MGRS 35U NV 67922 71036
5. ВРЕМЯ ПРИБЫТИЯ: 111000Z СЕН 27
6. ОБОСНОВАНИЕ: НЕТ
КОНЕЦ СООБЩЕНИЯ
"""

DECLINE_EN = """\
HOTLINE MESSAGE
FROM: US
TO: RU
MSG ID: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
DTG: 221400Z JUL 27
SUBJECT: ANSWER TO OBSERVER INVITATION
1. INVITATION REFERENCE: MSG ID e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
2. ANSWER: INVITATION DECLINED
3. OBSERVERS: NONE
4. ARRIVAL POINT: NONE
5. ARRIVAL TIME: NONE
6. REASON: No observers available on these dates.
END OF MESSAGE
"""

DECLINE_RU = """\
СООБЩЕНИЕ ПО ЛИНИИ ПРЯМОЙ СВЯЗИ
ОТ: US
КОМУ: RU
НОМЕР СООБЩЕНИЯ: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
ДАТА-ВРЕМЯ: 221400Z ИЮЛ 27
ТЕМА: ОТВЕТ НА ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ
1. ССЫЛКА НА ПРИГЛАШЕНИЕ: СООБЩЕНИЕ e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b
2. ОТВЕТ: ПРИГЛАШЕНИЕ ОТКЛОНЕНО
3. НАБЛЮДАТЕЛИ: НЕТ
4. ПУНКТ ПРИБЫТИЯ: НЕТ
5. ВРЕМЯ ПРИБЫТИЯ: НЕТ
6. ОБОСНОВАНИЕ: No observers available on these dates.
КОНЕЦ СООБЩЕНИЯ
"""


def accept() -> dict[str, Any]:
    return dict(load_example("observer_answer.json"))


def decline() -> dict[str, Any]:
    return {
        "type": "observer_answer",
        "invitation_ref": INVITATION,
        "answer": "decline",
        "reason": "No observers available on these dates.",
    }


@pytest.mark.parametrize(
    ("body", "lang", "expected"),
    [
        (accept, "en", ACCEPT_EN),
        (accept, "ru", ACCEPT_RU),
        (decline, "en", DECLINE_EN),
        (decline, "ru", DECLINE_RU),
    ],
)
def test_answer_renders_exactly(body: Any, lang: str, expected: str) -> None:
    notice = parse_notice(body())
    assert expected == render(notice, lang, sender="us", receiver="ru", message_id=MSG, sent_at=AT)


def test_summary_names_the_answer_in_both_languages() -> None:
    notice = parse_notice(decline())
    expected = (
        "ANSWER TO OBSERVER INVITATION: INVITATION DECLINED",
        "ОТВЕТ НА ПРИГЛАШЕНИЕ НАБЛЮДАТЕЛЕЙ: ПРИГЛАШЕНИЕ ОТКЛОНЕНО",
    )
    assert expected == (summary(notice, "en"), summary(notice, "ru"))


@pytest.mark.parametrize(
    ("change", "drop", "message"),
    [
        ({}, "observers", "observers: an accepted invitation needs observers"),
        ({}, "arrival_time", "arrival_time: an accepted invitation needs arrival_time"),
        ({}, "arrival_point", "arrival_point: an accepted invitation needs arrival_point"),
        ({"answer": "decline"}, None, "only given when accepting"),
        ({"answer": "maybe"}, None, "answer"),
        ({"observers": []}, None, "observers"),
        ({"invitation_ref": "../etc"}, None, "invitation_ref"),
    ],
)
def test_an_invalid_answer_is_refused_naming_the_field(
    change: dict[str, Any], drop: str | None, message: str
) -> None:
    body = accept() | change
    body.pop(drop or "", None)
    with pytest.raises(ValidationError, match=message):
        parse_notice(body)


def test_a_decline_needs_a_reason() -> None:
    body = decline()
    del body["reason"]
    with pytest.raises(ValidationError, match="reason: a declined invitation needs a reason"):
        parse_notice(body)


def test_on_a_node_the_answer_refers_to_the_invitation_the_other_side_sent(pair: Pair) -> None:
    exercise = sent_example(pair, "ru", "exercise_notification")
    invitation = sent_example(pair, "ru", "observer_invitation", exercise_ref=exercise)
    answer = example("observer_answer") | {"invitation_ref": invitation}
    sent = pair.us.notices.send("ru", answer, precedence="ROUTINE", lang=None, user="o")
    pair.flush()
    shown = pair.ru.show(sent["message"]["id"])
    assert ("observer_answer", invitation, "observer_invitation", True) == (
        shown["type"],
        shown["link"]["id"],
        shown["link"]["type"],
        shown["link"]["found"],
    )
    assert "2. ОТВЕТ: ПРИГЛАШЕНИЕ ПРИНЯТО" in shown["rendering"]["ru"]
    # an answer naming the exercise, or an invitation this side sent, is refused
    for wrong in (exercise, sent["message"]["id"]):
        with pytest.raises(ValidationError) as caught:
            pair.us.notices.send(
                "ru", answer | {"invitation_ref": wrong}, precedence="ROUTINE", lang=None, user="o"
            )
        assert "invitation_ref" == caught.value.context["field"]


def test_an_acceptance_names_no_more_observers_than_invited(pair: Pair) -> None:
    exercise = sent_example(pair, "ru", "exercise_notification")
    invitation = sent_example(pair, "ru", "observer_invitation", exercise_ref=exercise)  # 2
    answer = example("observer_answer") | {
        "invitation_ref": invitation,
        "observers": ["Lt Col John A. Carter", "Maj Emily R. Novak", "Capt Ann Lee"],
    }
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send("ru", answer, precedence="ROUTINE", lang=None, user="o")
    assert ("observers", f"observers: the invitation {invitation} asks for 2 observers; this "
            "answer names 3") == (caught.value.context["field"], caught.value.message)  # fmt: skip
    assert [] == [m for m in pair.us.line.listing("out") if m["type"] == "observer_answer"]
