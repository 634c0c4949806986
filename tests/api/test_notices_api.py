"""Notices, coded messages and translations through the operator API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import MakeNode, Pair, token
from tests.notices.conftest import present_rule
from tests.notices.test_render import INCIDENT_EN, INCIDENT_RU
from tests.services.test_notices import EXAMPLES, example, linked


@pytest.fixture
def clients(pair: Pair) -> Iterator[dict[str, httpx.Client]]:
    out = {}
    for party, user in (("us", "duty1"), ("ru", "anna")):
        bearer = token(pair.node(party), user, "long watch password")
        out[party] = httpx.Client(
            base_url=pair.servers[party].url,
            headers={"Authorization": f"Bearer {bearer}"},
            timeout=HTTP_TIMEOUT_S,
        )
    yield out
    for client in out.values():
        client.close()


def test_check_then_send_a_notice(pair: Pair, clients: dict[str, httpx.Client]) -> None:
    notice = example("incident_report")
    checked = clients["us"].post("/api/v1/notices/check", json={"to": "ru", "notice": notice})
    assert 200 == checked.status_code
    assert {"en", "ru"} == set(checked.json()["rendering"])
    assert checked.json()["blocked"] is False
    sent = clients["us"].post(
        "/api/v1/notices", json={"to": "ru", "notice": notice, "precedence": "IMMEDIATE"}
    )
    assert 201 == sent.status_code
    pair.flush()
    message_id = sent.json()["message"]["id"]
    shown = clients["ru"].get(f"/api/v1/messages/{message_id}").json()
    # the hand-written rendering of the example, with this message's id and time (the
    # fake clock's 2026-11-21T14:30:00Z) in place of the example's
    expected = {
        "en": INCIDENT_EN.replace(
            "MSG ID: 2b9d6e1f-3a4c-4d5e-8f70-1a2b3c4d5e6f", f"MSG ID: {message_id}"
        ).replace("DTG: 140741Z NOV 26", "DTG: 211430Z NOV 26"),
        "ru": INCIDENT_RU.replace(
            "НОМЕР СООБЩЕНИЯ: 2b9d6e1f-3a4c-4d5e-8f70-1a2b3c4d5e6f",
            f"НОМЕР СООБЩЕНИЯ: {message_id}",
        ).replace("ДАТА-ВРЕМЯ: 140741Z НОЯ 26", "ДАТА-ВРЕМЯ: 211430Z НОЯ 26"),
    }
    assert ("incident_report", expected, expected) == (
        shown["type"],
        shown["rendering"],
        sent.json()["rendering"],
    )


def test_an_invalid_notice_names_the_field(clients: dict[str, httpx.Client]) -> None:
    notice = example("activity_notice_missile_launch")
    notice["volumes"][0]["properties"]["alt_lower_m"] = 5000
    notice["volumes"][0]["properties"]["alt_upper_m"] = 1000
    response = clients["us"].post("/api/v1/notices", json={"to": "ru", "notice": notice})
    assert (422, "invalid") == (response.status_code, response.json()["error"]["code"])
    assert "alt" in response.json()["error"]["message"]  # names the field


def test_a_coded_message_by_api(pair: Pair, clients: dict[str, httpx.Client]) -> None:
    sent = clients["us"].post("/api/v1/messages", json={"to": "ru", "code": 1})
    assert 201 == sent.status_code
    entry = pair.us.identity.phrasebook.lookup(1)
    assert entry.ru in sent.json()["rendering"]["ru"]
    assert f"НОМЕР СООБЩЕНИЯ: {sent.json()['id']}" == sent.json()["rendering"]["ru"].splitlines()[3]


def test_a_shown_answer_names_the_request_it_answers(
    pair: Pair, clients: dict[str, httpx.Client]
) -> None:
    notice = linked(pair, "deconfliction_answer")
    sent = clients["us"].post("/api/v1/notices", json={"to": "ru", "notice": notice})
    pair.flush()

    link = clients["ru"].get(f"/api/v1/messages/{sent.json()['message']['id']}").json()["link"]

    assert (notice["refers_to"], "deconfliction_request", "out", "DECONFLICTION REQUEST") == (
        link["id"],
        link["type"],
        link["direction"],
        link["summary"]["en"],
    )


def test_a_reference_to_no_message_is_refused_naming_the_field(
    clients: dict[str, httpx.Client],
) -> None:
    notice = example("observer_invitation")

    response = clients["us"].post("/api/v1/notices", json={"to": "ru", "notice": notice})

    error = response.json()["error"]
    assert (422, "exercise_ref") == (response.status_code, error["context"]["field"])


def test_translation_and_certification_by_api(pair: Pair, clients: dict[str, httpx.Client]) -> None:
    sent = clients["us"].post("/api/v1/messages", json={"to": "ru", "text": "Call at 1400Z"})
    pair.flush()
    message_id = sent.json()["id"]
    added = clients["ru"].post(
        f"/api/v1/messages/{message_id}/translations", json={"lang": "ru", "text": "Звонок"}
    )
    assert 201 == added.status_code
    own = clients["ru"].post(f"/api/v1/translations/{added.json()['id']}/certify")
    assert (403, "forbidden") == (own.status_code, own.json()["error"]["code"])
    # certifying takes the translator role: anna (an officer) may not; tanya may
    pair.ru.auth.add_user("tanya", "long watch password", ["translator"])
    bearer = pair.ru.auth.login("tanya", "long watch password")[0]
    with httpx.Client(
        base_url=pair.servers["ru"].url,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=HTTP_TIMEOUT_S,
    ) as tanya:
        theirs = tanya.post(
            f"/api/v1/messages/{message_id}/translations", json={"lang": "ru", "text": "Звонок."}
        ).json()
        by_officer = clients["ru"].post(f"/api/v1/translations/{theirs['id']}/certify")
        certified = tanya.post(f"/api/v1/translations/{added.json()['id']}/certify")
    assert (403, "forbidden") == (by_officer.status_code, by_officer.json()["error"]["code"])
    assert "this needs the role translator" == by_officer.json()["error"]["hint"]
    assert (200, "tanya") == (certified.status_code, certified.json()["certified_by"])
    draft = clients["ru"].post(
        f"/api/v1/messages/{message_id}/translations/draft", json={"lang": "ru"}
    )
    assert 409 == draft.status_code


def test_the_phrasebook_and_schemas_are_published(clients: dict[str, httpx.Client]) -> None:
    book = clients["us"].get("/api/v1/phrasebook").json()
    assert 20 <= len(book["entries"]) and 64 == len(book["hash"])
    schemas = clients["us"].get("/api/v1/notices/schemas").json()
    assert {"activity_notice", "incident_report", "coded_message"} <= set(schemas)


def test_notice_send_and_send_code_from_the_cli(pair: Pair) -> None:
    runner = CliRunner()
    token(pair.us, "duty2", "long watch password")
    env = {
        "HOTLINE_USER": "duty2",
        "HOTLINE_PASSWORD": "long watch password",
        "HOTLINE_URL": pair.servers["us"].url,
    }
    directory = str(pair.us.settings.directory)
    result = runner.invoke(
        app,
        [
            "notice",
            "send",
            str(EXAMPLES / "exercise_notification.json"),
            "--to",
            "ru",
            "--dir",
            directory,
            "--json",
        ],
        env=env,
    )
    assert 0 == result.exit_code, result.output
    assert "exercise_notification" == json.loads(result.output)["message"]["type"]
    printed = runner.invoke(
        app,
        [
            "notice",
            "send",
            str(EXAMPLES / "incident_report.json"),
            "--to",
            "ru",
            "--dir",
            directory,
        ],
        env=env,
    )
    assert 0 == printed.exit_code, printed.output
    message_id = printed.output.split()[1]  # "queued <id> to ru (seq N)"
    assert f"MSG ID: {message_id}" in printed.output  # the English rendering
    assert f"НОМЕР СООБЩЕНИЯ: {message_id}" in printed.output  # and the Russian one
    coded = runner.invoke(
        app, ["send", "--to", "ru", "--code", "1", "--dir", directory, "--json"], env=env
    )
    assert 0 == coded.exit_code, coded.output
    assert "coded_message" == json.loads(coded.output)["type"]
    neither = runner.invoke(app, ["send", "--to", "ru", "--dir", directory], env=env)
    assert 1 == neither.exit_code and "TEXT or --code" in neither.output


def test_notice_send_refused_by_a_rule_prints_the_finding(make_pair: Any, tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    rules = {"parties": ["us", "ru"], "version": "t", "rules": [present_rule()]}
    (folder / "us-ru.json").write_text(json.dumps(rules), encoding="utf-8")
    with make_pair(us={"rules_dir": str(folder)}) as pair:
        token(pair.us, "duty2", "long watch password")
        env = {
            "HOTLINE_USER": "duty2",
            "HOTLINE_PASSWORD": "long watch password",
            "HOTLINE_URL": pair.servers["us"].url,
        }
        missile = str(EXAMPLES / "activity_notice_missile_launch.json")
        directory = str(pair.us.settings.directory)
        result = CliRunner().invoke(
            app, ["notice", "send", missile, "--to", "ru", "--dir", directory], env=env
        )

    assert 1 == result.exit_code
    assert "frequency-given (Contact frequency given): missing: contact_frequency" in (
        " ".join(result.output.split())
    )


def test_serve_refuses_to_start_with_a_broken_rules_file(
    make_node: MakeNode, tmp_path: Path
) -> None:
    node = make_node("us")
    broken = tmp_path / "rules"
    broken.mkdir()
    (broken / "us-ru.json").write_text('{"parties": ["us", "ru"]', encoding="utf-8")

    result = CliRunner().invoke(
        app,
        ["serve", "--dir", str(node.settings.directory)],
        env={"HOTLINE_RULES_DIR": str(broken)},
    )

    assert 1 == result.exit_code
    assert f"cannot read rules file {broken / 'us-ru.json'}" in " ".join(result.output.split())
