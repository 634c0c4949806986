"""Vienna Document 2011 thresholds as the packaged us-ru rules hold them (issue 16, item 7).

An exercise is notifiable 42 days ahead (§38) when it reaches ANY threshold of §40.1:
9,000 troops, 250 battle tanks, 500 ACVs, 250 artillery pieces, 200 air sorties; an alert
activity (§41) is notified when the troops start instead; observers are invited (§47.4, §47.5)
from 13,000 troops, 300 tanks, 500 ACVs, 250 artillery pieces or 3,500 amphibious or
parachute troops. Each test names the paragraph it checks. Paragraph numbers are as the
issue cites them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hotline.domain.notices.models import parse_notice
from hotline.services.notices.rules import Finding, check, format_findings

from .conftest import load_example

START = "2027-09-10T04:00:00Z"  # the example exercise's start
IN_TIME = datetime(2027, 7, 20, 9, 0, tzinfo=UTC)  # 52 days ahead
LATE = datetime(2027, 8, 30, 4, 0, tzinfo=UTC)  # 11 days ahead: 31 days late
NOTIFY = "exercise-notice-42d"
ALERT = "exercise-alert-at-start"
OBSERVE = "exercise-observers-13000"


def small_exercise(**changes: Any) -> dict[str, Any]:
    """The example exercise cut below every threshold, then ``changes`` applied."""
    body = dict(load_example("exercise_notification.json"))
    for name in ("tanks", "armoured_combat_vehicles", "artillery", "aircraft", "helicopters"):
        body.pop(name, None)
    return body | {"troops": 1200, "observers_invited": False} | changes


def findings(body: dict[str, Any], sent_at: datetime = LATE) -> dict[str, Finding]:
    found = check(parse_notice(body), sent_at=sent_at, sender="ru", receiver="us")
    return {f.rule_id: f for f in found}


def test_below_every_threshold_no_rule_applies() -> None:
    assert {} == findings(small_exercise())


@pytest.mark.parametrize(
    ("field", "below", "at", "because_en", "because_ru"),
    [
        ("troops", 8999, 9000, "troops 9000 (from 9000)", "личный состав 9000 (от 9000)"),
        ("tanks", 249, 250, "tanks 250 (from 250)", "танки 250 (от 250)"),
        (
            "armoured_combat_vehicles",
            499,
            500,
            "armoured_combat_vehicles 500 (from 500)",
            "боевые бронированные машины 500 (от 500)",
        ),
        (
            "artillery",
            249,
            250,
            "artillery 250 (from 250)",
            "артиллерийские системы 250 (от 250)",
        ),
        ("air_sorties", 199, 200, "air_sorties 200 (from 200)", "самолёто-вылеты 200 (от 200)"),
    ],
)
def test_vd2011_para_40_1_each_threshold_alone_makes_an_exercise_notifiable_42_days_ahead(
    field: str, below: int, at: int, because_en: str, because_ru: str
) -> None:
    """§40.1.1 (troops, tanks, ACVs, artillery) and §40.1.2 (air sorties); §38: 42 days."""
    assert NOTIFY not in findings(small_exercise(**{field: below}))
    found = findings(small_exercise(**{field: at}))[NOTIFY]
    assert (False, -31 * 86400, "late by 31 d 00:00", because_en, because_ru) == (
        found.satisfied,
        found.margin_s,
        found.detail_en,
        found.because_en,
        found.because_ru,
    )
    assert "Vienna Document 2011, §38, §40.1" == found.source


def test_vd2011_para_40_1_1_equipment_alone_320_tanks_520_acvs_few_troops() -> None:
    """The issue's case: 320 tanks and 520 ACVs with 1,200 troops got "no rule applies"."""
    body = small_exercise(tanks=320, armoured_combat_vehicles=520)
    found = findings(body)
    assert [NOTIFY, OBSERVE] == sorted(found)
    lines = format_findings(list(found.values()), "en").splitlines()
    assert (
        "1. [NOT MET] exercise-notice-42d — Exercise at a Vienna Document threshold notified at "
        "least 42 days ahead: late by 31 d 00:00; applies: tanks 320 (from 250), "
        "armoured_combat_vehicles 520 (from 500) (source: Vienna Document 2011, §38, §40.1)"
    ) == lines[1]
    ru = format_findings(list(found.values()), "ru").splitlines()
    assert (
        "1. [НЕ ВЫПОЛНЕНО] exercise-notice-42d — Уведомление об учении, достигающем порогов "
        "Венского документа, не менее чем за 42 дня: опоздание на 31 сут 00:00; применяется: "
        "танки 320 (от 250), боевые бронированные машины 520 (от 500) (источник: Vienna "
        "Document 2011, §38, §40.1)"
    ) == ru[1]
    assert findings(body, IN_TIME)[NOTIFY].satisfied


def test_vd2011_para_38_exactly_42_days_ahead_is_on_time() -> None:
    body = small_exercise(tanks=250)
    found = findings(body, datetime(2027, 7, 30, 4, 0, tzinfo=UTC))[NOTIFY]
    assert (True, 0) == (found.satisfied, found.margin_s)


def test_vd2011_para_41_an_alert_activity_is_notified_when_the_troops_start() -> None:
    """§41: no 42 days for an alert activity; notified at the latest as the troops start."""
    body = small_exercise(troops=20000, alert=True, observers_invited=True)
    at_start = findings(body, datetime(2027, 9, 10, 4, 0, tzinfo=UTC))
    assert NOTIFY not in at_start
    assert (True, "Vienna Document 2011, §41") == (
        at_start[ALERT].satisfied,
        at_start[ALERT].source,
    )
    an_hour_after = findings(body, datetime(2027, 9, 10, 5, 0, tzinfo=UTC))[ALERT]
    assert (False, "late by 0 d 01:00") == (an_hour_after.satisfied, an_hour_after.detail_en)
    # not an alert: the 42 days apply, and the alert rule does not
    assert [NOTIFY, OBSERVE] == sorted(findings(small_exercise(troops=20000, alert=False)))


@pytest.mark.parametrize(
    ("field", "below", "at"),
    [
        ("troops", 12999, 13000),
        ("tanks", 299, 300),
        ("armoured_combat_vehicles", 499, 500),
        ("artillery", 249, 250),
        ("amphibious_troops", 3499, 3500),
        ("airborne_troops", 3499, 3500),
    ],
)
def test_vd2011_paras_47_4_and_47_5_each_observation_threshold_needs_observers_invited(
    field: str, below: int, at: int
) -> None:
    """§47.4 (troops, tanks, ACVs, artillery) and §47.5 (amphibious, parachute): any one
    observation threshold reached needs observers invited."""
    assert OBSERVE not in findings(small_exercise(**{field: below}))
    found = findings(small_exercise(**{field: at}))[OBSERVE]
    assert (
        False,
        "observers_invited must be true, is false",
        "Vienna Document 2011, §47.4, §47.5",
    ) == (
        found.satisfied,
        found.detail_en,
        found.source,
    )
    invited = findings(small_exercise(**{field: at}, observers_invited=True))[OBSERVE]
    assert invited.satisfied


def test_the_new_figures_are_optional_and_rendered_in_both_languages() -> None:
    old = load_example("exercise_notification.json")
    assert parse_notice(old) == parse_notice(dict(old))  # an older body stays valid
    body = parse_notice(
        small_exercise(air_sorties=210, amphibious_troops=3600, airborne_troops=0, alert=True)
    )
    from hotline.render.notices import render

    en, ru = render(body, "en").splitlines(), render(body, "ru").splitlines()
    assert [
        "9. AIR SORTIES: 210",
        "10. AMPHIBIOUS LANDING TROOPS: 3600",
        "11. PARACHUTE ASSAULT TROOPS: 0",
        "12. ALERT ACTIVITY: YES",
    ] == en[-5:-1]
    assert [
        "9. САМОЛЁТО-ВЫЛЕТЫ: 210",
        "10. ЧИСЛЕННОСТЬ МОРСКОГО ДЕСАНТА: 3600",
        "11. ЧИСЛЕННОСТЬ ПАРАШЮТНОГО ДЕСАНТА: 0",
        "12. УЧЕНИЕ ПО ТРЕВОГЕ: ДА",
    ] == ru[-5:-1]
