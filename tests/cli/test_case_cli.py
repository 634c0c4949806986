"""`hotline case`: open a case from a report, join it from the other node, show and list."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app
from tests.conftest import Pair
from tests.services.test_cases import _at, event
from tests.services.test_notices import sent_example

runner = CliRunner()
OFFICER = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "long watch password"}


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args), env=OFFICER, terminal_width=200)
    assert 0 == result.exit_code, result.output
    return result.output


def test_a_case_opened_joined_and_shown_from_the_command_line(pair: Pair, tmp_path: Path) -> None:
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty1", "long watch password")
    us_dir, ru_dir = str(pair.us.settings.directory), str(pair.ru.settings.directory)
    report = sent_example(pair, "us", "incident_report")
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    seen, later = _at(pair, -300), _at(pair, -283)
    ours.write_text(json.dumps({"events": [event("closest_approach", seen, "32.5", "43.25")]}))
    theirs.write_text(json.dumps({"events": [event("closest_approach", later, "32.51", "43.25")]}))

    opened = invoke("case", "open", str(ours), "--to", "ru", "--from-report", report[:8],
                    "--dir", us_dir)  # fmt: skip
    case_id = opened.split()[1].rstrip(":")
    pair.flush()
    invoke("case", "account", case_id, str(theirs), "--dir", ru_dir)
    pair.flush()

    shown = invoke("case", "show", case_id, "--dir", us_dir)
    assert "closest_approach: +17 s, 0.438 NM (812.1 m)" in shown
    as_json = json.loads(invoke("case", "show", case_id, "--dir", ru_dir, "--json"))
    assert report == as_json["opened_from"]["ref"]
    assert [case_id] == [
        c["id"] for c in json.loads(invoke("case", "list", "--dir", ru_dir, "--json"))
    ]
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"events": [], "case": "x"}))
    refused = runner.invoke(
        app, ["case", "account", case_id, str(extra), "--dir", us_dir], env=OFFICER
    )
    assert 1 == refused.exit_code and "not case" in refused.output

    pair.us.evidence.exchange()
    out = tmp_path / "window.json"
    window = ["--from", _at(pair, -3600), "--to", _at(pair, 1), "--out", str(out)]
    invoke("evidence", "export", *window, "--dir", us_dir)
    verdict = json.loads(runner.invoke(app, ["verify", str(out), "--json"]).output)
    # the report and both accounts; none acknowledged yet, so INCOMPLETE but genuine
    assert (True, 3) == (verdict["ok"], len(verdict["messages"]))
    half = runner.invoke(app, ["evidence", "export", "--from", _at(pair, -60), "--out", str(out),
                               "--dir", us_dir])  # fmt: skip
    assert 2 == half.exit_code and "--from T --to T" in half.output
