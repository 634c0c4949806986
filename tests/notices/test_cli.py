"""``notice render`` and ``notice check`` as the lead will register them, on a test app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hotline.cli.main import app as hotline
from hotline.cli.notices import check_command, render_command

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
    assert out.splitlines()[1].endswith(
        ": late by 0 d 00:01 (source: Ballistic Missile Launch Notification Agreement, 1988)"
    )


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


def write_rules(folder: Path, rules: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"parties": ["us", "ru"], "version": "t", "rules": rules})
    (folder / "us-ru.json").write_text(text, encoding="utf-8")
    return folder


BLOCKED = (
    "1. [NOT MET, BLOCKS SENDING] frequency-given — Contact frequency given: "
    "missing: contact_frequency"
)


def test_check_exits_1_when_a_finding_blocks_sending(app: typer.Typer, tmp_path: Path) -> None:
    folder = write_rules(tmp_path, [present_rule()])

    code, out, _ = run(
        app, "check", MISSILE, "--from", "us", "--to", "ru", "--rules-dir", str(folder)
    )

    assert (1, BLOCKED) == (code, out.splitlines()[1])


def test_check_uses_hotline_rules_dir(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_RULES_DIR", str(write_rules(tmp_path, [present_rule()])))

    code, out, _ = run(app, "check", MISSILE)

    assert (1, BLOCKED) == (code, out.splitlines()[1])


def test_check_uses_the_rules_dir_of_the_node_in_dir(app: typer.Typer, tmp_path: Path) -> None:
    folder = write_rules(tmp_path / "rules", [present_rule()])
    node = tmp_path / "node"
    node.mkdir()
    (node / "hotline.toml").write_text(
        f'party = "us"\nname_en = "US"\nname_ru = "США"\nrules_dir = "{folder}"\n',
        encoding="utf-8",
    )

    code, out, _ = run(app, "check", MISSILE, "--from", "us", "--to", "ru", "--dir", str(node))

    assert (1, BLOCKED) == (code, out.splitlines()[1])


def test_check_refuses_a_broken_rules_file_naming_it(app: typer.Typer, tmp_path: Path) -> None:
    rule = present_rule(check={"kind": "present", "fields": ["contact_frequncy"]})
    folder = write_rules(tmp_path, [rule])

    code, out, err = run(app, "check", MISSILE, "--rules-dir", str(folder))

    assert (2, "") == (code, out)
    assert f"error: rules file {folder / 'us-ru.json'}: " in err
    assert "activity_notice has no field 'contact_frequncy'" in err


def test_check_refuses_an_unknown_code_as_render_does(app: typer.Typer, tmp_path: Path) -> None:
    body = json.loads((EXAMPLES_DIR / "coded_message.json").read_text(encoding="utf-8"))
    body["code"] = 9999
    bad = tmp_path / "coded.json"
    bad.write_text(json.dumps(body), encoding="utf-8")

    checked, rendered = run(app, "check", str(bad)), run(app, "render", str(bad))

    assert (2, 2) == (checked[0], rendered[0])
    assert checked[2].startswith("error: code: unknown code 9999 in phrasebook version ")


def test_check_needs_both_parties_or_neither(app: typer.Typer) -> None:
    code, _, err = run(app, "check", MISSILE, "--from", "us")

    assert (2, True) == (code, "give both --from and --to" in err)


def test_check_refuses_a_bad_time(app: typer.Typer) -> None:
    code, _, err = run(app, "check", MISSILE, "--at", "tomorrow")

    assert (2, True) == (
        code,
        err.startswith("error: --at: 'tomorrow' is not an RFC 3339 UTC time"),
    )


def test_notice_send_names_the_notice_file_it_cannot_read(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    missing = tmp_path / "missing.json"
    for path, problem in ((broken, "is not valid JSON"), (missing, "cannot read notice file")):
        result = CliRunner().invoke(
            hotline, ["notice", "send", str(path), "--to", "ru", "--dir", str(tmp_path)]
        )
        said = " ".join(result.output.split())
        assert 1 == result.exit_code, said
        assert problem in said and str(path) in said and "card" not in said
