"""``notice render`` and ``notice check`` as the lead will register them, on a test app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hotline.notices_cli import check_command, render_command

from .conftest import EXAMPLES_DIR, present_rule

MISSILE = str(EXAMPLES_DIR / "activity_notice_missile_launch.json")


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("render")(render_command)
    app.command("check")(check_command)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_render_prints_the_russian_text(app: typer.Typer) -> None:
    code, out, _ = run(
        app, "render", MISSILE, "--lang", "ru", "--from", "ru", "--at", "2026-12-01T12:00:00Z"
    )

    lines = out.splitlines()
    assert (0, "ОТ: RU", "ДАТА-ВРЕМЯ: 011200Z ДЕК 26", "КОНЕЦ СООБЩЕНИЯ") == (
        code,
        lines[1],
        lines[4],
        lines[-1],
    )


def test_render_refuses_an_invalid_file_naming_the_field(app: typer.Typer, tmp_path: Path) -> None:
    body = json.loads(Path(MISSILE).read_text(encoding="utf-8"))
    del body["impact_area"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(body), encoding="utf-8")

    code, _, err = run(app, "render", str(bad))

    assert 2 == code
    assert err.startswith("error: impact_area: a missile launch needs its impact area")


def test_render_refuses_an_unknown_language(app: typer.Typer) -> None:
    code, _, _ = run(app, "render", MISSILE, "--lang", "de")

    assert 2 == code


def test_check_prints_findings(app: typer.Typer) -> None:
    code, out, _ = run(
        app, "check", MISSILE, "--from", "ru", "--to", "us", "--at", "2026-12-02T09:01:00Z"
    )

    assert 0 == code
    assert "1. [NOT MET] missile-launch-24h — " in out
    assert out.splitlines()[1].endswith(": late by 0 d 00:01")


def test_check_uses_the_only_installed_agreement_by_default(app: typer.Typer) -> None:
    code, out, _ = run(app, "check", MISSILE, "--at", "2026-12-02T09:00:00Z")

    assert (0, "AGREEMENT RULES: 2") == (code, out.splitlines()[0])


def test_check_json_lists_findings_for_both_sides(app: typer.Typer) -> None:
    code, out, _ = run(
        app,
        "check",
        MISSILE,
        "--json",
        "--from",
        "us",
        "--to",
        "ru",
        "--at",
        "2026-12-02T09:01:00Z",
    )

    report = json.loads(out)
    first = report["findings"][0]
    assert (0, False, "2026-12-02T09:01:00Z") == (code, report["blocks_sending"], report["sent_at"])
    assert ("missile-launch-24h", -60, "опоздание на 0 сут 00:01") == (
        first["rule_id"],
        first["margin_s"],
        first["detail_ru"],
    )


def test_check_exits_1_when_a_finding_blocks_sending(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = {"parties": ["us", "ru"], "version": "t", "rules": [present_rule()]}
    (tmp_path / "us-ru.json").write_text(json.dumps(rules), encoding="utf-8")
    monkeypatch.setattr("hotline.rules.RULES_DIR", tmp_path)

    code, out, _ = run(app, "check", MISSILE, "--from", "us", "--to", "ru")

    expected = (
        "1. [NOT MET, BLOCKS SENDING] frequency-given — Contact frequency given: "
        "missing: contact_frequency"
    )
    assert (1, expected) == (code, out.splitlines()[1])


def test_check_needs_both_parties_or_neither(app: typer.Typer) -> None:
    code, _, err = run(app, "check", MISSILE, "--from", "us")

    assert (2, True) == (code, "give both --from and --to" in err)


def test_check_refuses_a_bad_time(app: typer.Typer) -> None:
    code, _, err = run(app, "check", MISSILE, "--at", "tomorrow")

    assert (2, True) == (
        code,
        err.startswith("error: --at: 'tomorrow' is not an RFC 3339 UTC time"),
    )
