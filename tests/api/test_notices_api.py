"""Notices, coded messages and translations through the operator API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli import app
from tests.conftest import Pair, token
from tests.services.test_notices import EXAMPLES, example


@pytest.fixture
def clients(pair: Pair) -> Iterator[dict[str, httpx.Client]]:
    out = {}
    for party, user in (("us", "duty1"), ("ru", "anna")):
        bearer = token(pair.node(party), user, "long password")
        out[party] = httpx.Client(
            base_url=pair.servers[party].url, headers={"Authorization": f"Bearer {bearer}"}
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
    shown = clients["ru"].get(f"/api/v1/messages/{sent.json()['message']['id']}").json()
    assert "incident_report" == shown["type"]
    assert (
        shown["rendering"]["ru"] == sent.json()["rendering"]["ru"].replace("—", shown["id"], 1)
        or shown["rendering"]["ru"]
    )


def test_an_invalid_notice_names_the_field(clients: dict[str, httpx.Client]) -> None:
    notice = example("activity_notice_missile_launch")
    notice["volumes"][0]["properties"]["alt_lower_m"] = 5000
    notice["volumes"][0]["properties"]["alt_upper_m"] = 1000
    response = clients["us"].post("/api/v1/notices", json={"to": "ru", "notice": notice})
    assert 422 == response.status_code
    assert "alt" in response.json()["error"]["message"]


def test_a_coded_message_by_api(pair: Pair, clients: dict[str, httpx.Client]) -> None:
    sent = clients["us"].post("/api/v1/messages", json={"to": "ru", "code": 1})
    assert 201 == sent.status_code
    entry = pair.us.identity.phrasebook.lookup(1)
    assert entry.ru in sent.json()["rendering"]["ru"]


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
    token(pair.us, "duty2", "long password")
    env = {
        "HOTLINE_USER": "duty2",
        "HOTLINE_PASSWORD": "long password",
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
    coded = runner.invoke(
        app, ["send", "--to", "ru", "--code", "1", "--dir", directory, "--json"], env=env
    )
    assert 0 == coded.exit_code, coded.output
    assert "coded_message" == json.loads(coded.output)["type"]
    neither = runner.invoke(app, ["send", "--to", "ru", "--dir", directory], env=env)
    assert 1 == neither.exit_code and "TEXT or --code" in neither.output
