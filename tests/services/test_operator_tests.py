"""Operator tests: a person on the other side must answer in time, with a fake clock.

Unanswered → ``operator_unanswered`` ("line up, nobody answering"), distinct from
``link_down``; answered in time → no alarm; answered late → the alarm clears. Renderings
in English and Russian, hand-written.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hotline.clock import FakeClock
from hotline.errors import Conflict, MalformedMessage
from tests.conftest import MakePair, Pair

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@pytest.fixture
def line(make_pair: MakePair, clock: FakeClock) -> Iterator[Pair]:
    clock.set(T0 - timedelta(minutes=1))
    settings = {"operator_test_times": "06:00,18:00"}
    with make_pair(us=settings, ru={}) as made:
        yield made


def alarms(pair: Pair, party: str = "us") -> list[tuple[str, str, str]]:
    node = pair.node(party)
    return [(a["kind"], a["subject"], a["state"]) for a in node.alarms.listing()]


def their_test(pair: Pair) -> dict[str, Any]:
    [test] = pair.ru.operator_tests.listing("in")
    return test


def test_the_schedule_sends_the_test_and_the_peer_officer_sees_it_in_english_and_russian(
    line: Pair, clock: FakeClock
) -> None:
    line.us.operator_tests.tick()
    assert [] == line.us.operator_tests.listing()  # 05:59: not yet
    clock.set(T0)
    line.us.operator_tests.tick()
    line.us.operator_tests.tick()  # once per time of day
    [ours] = line.us.operator_tests.listing("out")
    assert ("pending", "2026-11-21T06:10:00.000Z") == (ours["state"], ours["answer_by"])
    line.flush()
    theirs = their_test(line)
    assert ("in", "us", "pending", ours["id"]) == (
        theirs["direction"],
        theirs["peer"],
        theirs["state"],
        theirs["id"],
    )
    # us writes English: the test's text is the English alphabet and the digits
    assert (
        "OPERATOR TEST from us: answer by 210610Z NOV 26.\n"
        "Text:\n"
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG\n"
        "0123456789\n"
        "Waiting for an officer's answer."
    ) == theirs["rendering"]["en"]
    assert (
        "ПРОВЕРКА ОПЕРАТОРА от us: ответить до 210610Z НОЯ 26.\n"
        "Текст:\n"
        "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG\n"
        "0123456789\n"
        "Ожидается ответ дежурного."
    ) == theirs["rendering"]["ru"]
    # it waits in ru's inbox for a person (no acknowledgement deadline: the answer is its own)
    [shown] = [m for m in line.ru.line.listing("in") if m["type"] == "operator_test"]
    assert shown["deadline"] is None


def test_a_russian_node_tests_in_russian(line: Pair, clock: FakeClock) -> None:
    clock.set(T0)
    line.ru.operator_tests.send("us")
    line.flush()
    [theirs] = line.us.operator_tests.listing("in")
    assert "СЪЕШЬ ЖЕ ЕЩЁ ЭТИХ МЯГКИХ ФРАНЦУЗСКИХ БУЛОК, ДА ВЫПЕЙ ЧАЮ" == theirs["text"]
    assert set("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ") <= set(theirs["text"])
    assert "0123456789" == theirs["digits"]


def test_answered_in_time_raises_nothing(line: Pair, clock: FakeClock) -> None:
    clock.set(T0)
    line.us.operator_tests.tick()
    line.flush()
    clock.advance(timedelta(minutes=4))
    answered = line.ru.operator_tests.answer(their_test(line)["id"], "lt.petrov")
    assert ("answered", "lt.petrov") == (answered["state"], answered["answered_by"])
    line.flush()
    clock.advance(timedelta(minutes=20))
    line.us.operator_tests.tick()
    [ours] = line.us.operator_tests.listing("out")
    assert ("answered", "lt.petrov", "2026-11-21T06:04:00.000Z") == (
        ours["state"],
        ours["answered_by"],
        ours["answered_at"],
    )
    assert "Answered by lt.petrov at 210604Z NOV 26." == ours["rendering"]["en"].splitlines()[-1]
    assert "Ответил lt.petrov в 210604Z НОЯ 26." == ours["rendering"]["ru"].splitlines()[-1]
    assert [] == alarms(line)
    with pytest.raises(Conflict):  # answered once
        line.ru.operator_tests.answer(ours["id"], "lt.ivanov")


def test_unanswered_raises_its_own_alarm_and_a_late_answer_clears_it(
    line: Pair, clock: FakeClock
) -> None:
    clock.set(T0)
    line.us.operator_tests.tick()
    line.flush()  # the link works: the test is delivered (and link_down stays quiet)
    clock.set(T0 + timedelta(minutes=10) - timedelta(seconds=1))
    line.us.operator_tests.tick()
    assert [] == alarms(line)
    clock.set(T0 + timedelta(minutes=10))
    line.us.operator_tests.tick()
    assert [("operator_unanswered", "ru", "open")] == alarms(line)
    [ours] = line.us.operator_tests.listing("out")
    assert (
        "NOBODY ANSWERED by 210610Z NOV 26: the line is up, nobody is answering."
        == ours["rendering"]["en"].splitlines()[-1]
    )
    assert (
        "НИКТО НЕ ОТВЕТИЛ до 210610Z НОЯ 26: линия работает, но никто не отвечает."
        == ours["rendering"]["ru"].splitlines()[-1]
    )
    clock.set(T0 + timedelta(minutes=25))
    line.ru.operator_tests.answer(their_test(line)["id"], "lt.petrov")
    line.flush()
    [cleared] = line.us.alarms.listing()
    assert ("cleared", "auto", "lt.petrov answered the operator test late") == (
        cleared["state"],
        cleared["cleared_by"],
        cleared["clear_reason"],
    )
    [ours] = line.us.operator_tests.listing("out")
    assert "answered_late" == ours["state"]
    assert (
        "Ответил С ОПОЗДАНИЕМ lt.petrov в 210625Z НОЯ 26."
        == (ours["rendering"]["ru"].splitlines()[-1])
    )


def test_an_answer_to_a_test_never_sent_is_refused(line: Pair, clock: FakeClock) -> None:
    clock.set(T0)
    line.us.operator_tests.send("ru")
    line.flush()
    test = their_test(line)

    def forged(conn: Any) -> None:
        line.ru.line.enqueue(
            conn,
            to="us",
            type_="operator_test_answer",
            body={"test_id": test["id"], "test_hash": "0" * 64, "officer": "nobody"},
            precedence="IMMEDIATE",
            lang="ru",
            user=None,
        )

    line.ru.db.transaction(forged)
    outcome = line.deliver("ru", "us")
    assert outcome is not None and outcome.error is not None
    assert MalformedMessage.code in outcome.error
    assert "pending" == line.us.operator_tests.listing("out")[0]["state"]
