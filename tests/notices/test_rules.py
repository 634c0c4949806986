"""Agreement rules: each one on time, late by a minute and exactly on its boundary."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.notices.models import parse_notice
from hotline.errors import ConfigError, ValidationError
from hotline.services.notices.rules import (
    Finding,
    check,
    check_rules_dir,
    find_rules,
    format_findings,
    load_rules,
    rules_for,
)

from .conftest import load_example, present_rule


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def finding(body: dict[str, Any], rule_id: str, sent_at: str) -> Finding:
    findings = check(parse_notice(body), sent_at=at(sent_at), sender="us", receiver="ru")
    matching = [f for f in findings if f.rule_id == rule_id]
    assert 1 == len(matching), findings
    return matching[0]


def outcome(f: Finding) -> tuple[bool, int | None, str, str]:
    return f.satisfied, f.margin_s, f.detail_en, f.detail_ru


# --- missile launch: at least 24 h ahead (launch window opens 2026-12-03 09:00Z) -------------


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (
            "2026-12-01T12:00:00Z",
            (True, 75600, "on time: 0 d 21:00 to spare", "в срок, запас 0 сут 21:00"),
        ),
        (
            "2026-12-02T09:00:00Z",
            (True, 0, "on time: 0 d 00:00 to spare", "в срок, запас 0 сут 00:00"),
        ),
        ("2026-12-02T09:01:00Z", (False, -60, "late by 0 d 00:01", "опоздание на 0 сут 00:01")),
        # one second late is late, and reads as a whole minute, never as 00:00
        ("2026-12-02T09:00:01Z", (False, -1, "late by 0 d 00:01", "опоздание на 0 сут 00:01")),
    ],
)
def test_missile_launch_needs_24_hours_notice(
    missile_launch: dict[str, Any], sent_at: str, expected: tuple[Any, ...]
) -> None:
    assert expected == outcome(finding(missile_launch, "missile-launch-24h", sent_at))


def test_missile_launch_finding_says_which_rule_in_both_languages(
    missile_launch: dict[str, Any],
) -> None:
    expected = Finding(
        rule_id="missile-launch-24h",
        title_en="Ballistic missile launch notified at least 24 hours ahead",
        title_ru="Уведомление о пуске баллистической ракеты не менее чем за 24 часа",
        satisfied=False,
        severity="error",
        blocking=False,
        blocks_sending=False,
        margin_s=-60,
        detail_en="late by 0 d 00:01",
        detail_ru="опоздание на 0 сут 00:01",
        source="Ballistic Missile Launch Notification Agreement, 1988",
    )
    assert expected == finding(missile_launch, "missile-launch-24h", "2026-12-02T09:01:00Z")


def test_missile_launch_areas_are_reported_as_given(missile_launch: dict[str, Any]) -> None:
    f = finding(missile_launch, "missile-launch-areas", "2026-12-01T12:00:00Z")

    expected = (
        True,
        None,
        "given: launch_area, impact_area",
        "указаны: район пуска, район падения",
    )
    assert expected == outcome(f)


# --- exercises: 42 days ahead from 9,000 troops; observers from 13,000 ------------------------


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (
            "2027-07-20T09:00:00Z",
            (True, 846000, "on time: 9 d 19:00 to spare", "в срок, запас 9 сут 19:00"),
        ),
        (
            "2027-07-30T04:00:00Z",
            (True, 0, "on time: 0 d 00:00 to spare", "в срок, запас 0 сут 00:00"),
        ),
        ("2027-07-30T04:01:00Z", (False, -60, "late by 0 d 00:01", "опоздание на 0 сут 00:01")),
    ],
)
def test_exercise_needs_42_days_notice(
    exercise: dict[str, Any], sent_at: str, expected: tuple[Any, ...]
) -> None:
    assert expected == outcome(finding(exercise, "exercise-notice-42d", sent_at))


@pytest.mark.parametrize(("troops", "applies"), [(8999, False), (9000, True), (9001, True)])
def test_exercise_is_notifiable_from_9000_troops(
    exercise: dict[str, Any], troops: int, applies: bool
) -> None:
    # no equipment at its thresholds: troops alone decide (VD 2011 §40.1.1)
    exercise |= {"troops": troops, "tanks": 0, "observers_invited": False}
    findings = check(
        parse_notice(exercise), sent_at=at("2027-07-30T04:01:00Z"), sender="ru", receiver="us"
    )

    assert applies == ("exercise-notice-42d" in [f.rule_id for f in findings])


@pytest.mark.parametrize(
    ("troops", "invited", "expected"),
    [
        (12999, False, None),  # below the threshold: the rule does not apply
        (
            13000,
            True,
            (True, None, "observers_invited is true", "приглашение наблюдателей: да"),
        ),
        (
            13000,
            False,
            (
                False,
                None,
                "observers_invited must be true, is false",
                "приглашение наблюдателей: требуется да, указано нет",
            ),
        ),
    ],
)
def test_observers_are_invited_from_13000_troops(
    exercise: dict[str, Any], troops: int, invited: bool, expected: tuple[Any, ...] | None
) -> None:
    exercise |= {"troops": troops, "observers_invited": invited}
    findings = check(
        parse_notice(exercise), sent_at=at("2027-07-20T09:00:00Z"), sender="us", receiver="ru"
    )

    got = [outcome(f) for f in findings if f.rule_id == "exercise-observers-13000"]
    assert ([] if expected is None else [expected]) == got


# --- hazardous activity at sea: between 3 and 5 days ahead (starts 2026-12-07 06:00Z) ---------


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (
            "2026-12-03T08:00:00Z",
            (True, 79200, "on time: 0 d 22:00 to spare", "в срок, запас 0 сут 22:00"),
        ),
        (
            "2026-12-04T06:00:00Z",
            (True, 0, "on time: 0 d 00:00 to spare", "в срок, запас 0 сут 00:00"),
        ),
        ("2026-12-04T06:01:00Z", (False, -60, "late by 0 d 00:01", "опоздание на 0 сут 00:01")),
        (
            "2026-12-02T06:00:00Z",
            (True, 0, "on time: 0 d 00:00 to spare", "в срок, запас 0 сут 00:00"),
        ),
        (
            "2026-12-02T05:59:00Z",
            (False, -60, "too early by 0 d 00:01", "раньше срока на 0 сут 00:01"),
        ),
    ],
)
def test_hazardous_activity_at_sea_needs_3_to_5_days_notice(
    hazardous_activity: dict[str, Any], sent_at: str, expected: tuple[Any, ...]
) -> None:
    assert expected == outcome(finding(hazardous_activity, "incsea-hazard-3-5d", sent_at))


# --- the engine -------------------------------------------------------------------------------


def test_rules_for_a_pair_are_found_in_either_order() -> None:
    assert rules_for("us", "ru") == rules_for("ru", "us")


def test_a_pair_without_a_rules_file_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no agreement rules between us and cn"):
        rules_for("us", "cn")


def test_find_rules_gives_none_for_a_pair_without_a_file(tmp_path: Path) -> None:
    assert (None, None) == (find_rules("us", "cn"), find_rules("us", "ru", tmp_path))


def test_find_rules_refuses_a_broken_file_rather_than_find_none(tmp_path: Path) -> None:
    rule = present_rule(check={"kind": "present", "fields": ["contact_frequncy"]})
    write_rules(tmp_path, [rule])

    with pytest.raises(ConfigError, match="activity_notice has no field 'contact_frequncy'"):
        find_rules("ru", "us", tmp_path)


def test_find_rules_refuses_a_file_for_other_parties(tmp_path: Path) -> None:
    (tmp_path / "us-ru.json").write_text(
        json.dumps({"parties": ["us", "cn"], "version": "t", "rules": []})
    )

    with pytest.raises(ConfigError, match=r"is for parties \['us', 'cn'\], not ru and us"):
        find_rules("us", "ru", tmp_path)


def test_the_packaged_rules_dir_loads() -> None:
    assert ["us-ru"] == list(check_rules_dir())


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"us-ru.json": "{not json"}, "cannot read rules file"),
        ({"us-ru.json": json.dumps({"parties": ["us", "ru"], "rules": []})}, "version"),
        (
            {"us-cn.json": json.dumps({"parties": ["us", "ru"], "version": "t", "rules": []})},
            "holds the rules of us and ru",
        ),
    ],
)
def test_a_broken_rules_dir_is_a_config_error(
    tmp_path: Path, files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError, match=message):
        check_rules_dir(tmp_path)


def test_a_missing_rules_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):
        check_rules_dir(tmp_path / "nowhere")


def test_notices_no_rule_concerns_give_no_findings() -> None:
    notice = parse_notice(load_example("incident_report.json"))

    assert [] == check(notice, sent_at=at("2026-11-14T07:41:00Z"), sender="us", receiver="ru")


def test_sent_at_must_be_aware(missile_launch: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        check(
            parse_notice(missile_launch), sent_at=datetime(2026, 12, 1), sender="us", receiver="ru"
        )


def write_rules(tmp_path: Path, rules: list[dict[str, Any]]) -> Path:
    path = tmp_path / "us-ru.json"
    path.write_text(json.dumps({"parties": ["us", "ru"], "version": "t", "rules": rules}))
    return path


def test_blocking_rule_not_met_blocks_sending(
    tmp_path: Path, missile_launch: dict[str, Any]
) -> None:
    rules = load_rules(write_rules(tmp_path, [present_rule()]))

    [f] = check(
        parse_notice(missile_launch),
        sent_at=at("2026-12-01T12:00:00Z"),
        sender="us",
        receiver="ru",
        rules=rules,
    )

    assert (False, True, "missing: contact_frequency") == (
        f.satisfied,
        f.blocks_sending,
        f.detail_en,
    )


def test_non_blocking_rule_not_met_does_not_block(
    tmp_path: Path, missile_launch: dict[str, Any]
) -> None:
    rules = load_rules(write_rules(tmp_path, [present_rule(blocking=False)]))

    [f] = check(
        parse_notice(missile_launch),
        sent_at=at("2026-12-01T12:00:00Z"),
        sender="us",
        receiver="ru",
        rules=rules,
    )

    assert (False, False) == (f.satisfied, f.blocks_sending)


def test_rules_file_naming_an_unknown_field_is_refused_on_load(tmp_path: Path) -> None:
    rule = present_rule(check={"kind": "present", "fields": ["contact_frequncy"]})

    with pytest.raises(ConfigError, match="activity_notice has no field 'contact_frequncy'"):
        load_rules(write_rules(tmp_path, [rule]))


def test_advance_notice_on_a_type_without_start_is_refused_on_load(tmp_path: Path) -> None:
    rule = present_rule(
        applies_to={"type": "incident_report"}, check={"kind": "advance_notice", "min_ahead": "1h"}
    )

    with pytest.raises(ConfigError, match="incident_report has no start time"):
        load_rules(write_rules(tmp_path, [rule]))


def test_findings_read_as_numbered_lines_in_both_languages(missile_launch: dict[str, Any]) -> None:
    findings = check(
        parse_notice(missile_launch), sent_at=at("2026-12-02T09:01:00Z"), sender="ru", receiver="us"
    )

    expected_en = (
        "AGREEMENT RULES: 2\n"
        "1. [NOT MET] missile-launch-24h — Ballistic missile launch notified at least 24 hours "
        "ahead: late by 0 d 00:01 (source: Ballistic Missile Launch Notification Agreement, "
        "1988)\n"
        "2. [MET] missile-launch-areas — Launch notice gives the launch area and the impact area: "
        "given: launch_area, impact_area (source: Ballistic Missile Launch Notification "
        "Agreement, 1988)\n"
    )
    expected_ru = (
        "ПРАВИЛА СОГЛАШЕНИЙ: 2\n"
        "1. [НЕ ВЫПОЛНЕНО] missile-launch-24h — Уведомление о пуске баллистической ракеты не менее "
        "чем за 24 часа: опоздание на 0 сут 00:01 (источник: Ballistic Missile Launch "
        "Notification Agreement, 1988)\n"
        "2. [ВЫПОЛНЕНО] missile-launch-areas — В уведомлении о пуске указаны район пуска и район "
        "падения: указаны: район пуска, район падения (источник: Ballistic Missile Launch "
        "Notification Agreement, 1988)\n"
    )
    assert (expected_en, expected_ru) == (
        format_findings(findings, "en"),
        format_findings(findings, "ru"),
    )


def test_no_findings_read_as_such() -> None:
    assert "ПРАВИЛА СОГЛАШЕНИЙ К СООБЩЕНИЮ НЕ ПРИМЕНЯЮТСЯ\n" == format_findings([], "ru")
