"""Poland, November 2022, on two real ``hotline serve`` processes: the peer's node is down,
an IMMEDIATE message goes unacknowledged, and the escalation climbs OUR OWN ladder — no
escalation envelope queued behind the undelivered original — while an officer works
through the peer's out-of-band contacts (from its signed card) and records each attempt,
which lands in the node's log and the message's evidence bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner, Result

from hotline.cli.main import app
from hotline.services.evidence.verify import verify_bundle
from hotline.testing import verify_for, wait_for
from tests.e2e.conftest import PASSWORDS, Processes
from tests.services.test_escalation import RU_CONTACTS, US_CONTACTS

runner = CliRunner()
US_CONTACTS_3 = [
    *US_CONTACTS,
    {"id": "chief", "role_en": "Chief of staff", "role_ru": "Начальник штаба"},
]


def cli(directory: Path, *args: str, party: str = "us") -> Result:
    env = {"HOTLINE_USER": "officer", "HOTLINE_PASSWORD": PASSWORDS[party], "COLUMNS": "200"}
    return runner.invoke(app, [*args, "--dir", str(directory)], env=env)


def ok(directory: Path, *args: str, party: str = "us") -> str:
    result = cli(directory, *args, party=party)
    assert 0 == result.exit_code, result.output
    return result.output


class Officer:
    def __init__(self, url: str, party: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30, verify=verify_for(url))
        login = {"user": "officer", "password": PASSWORDS[party]}
        token = self.http.post(url + "/api/v1/login", json=login).json()["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str) -> Any:
        response = self.http.get(self.url + path)
        assert response.is_success, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(self.url + path, json=body)
        assert response.is_success, response.text
        return response.json()


def exchange_cards(tmp_path: Path) -> None:
    """Each side sets its ladder with the CLI; us pins ru's new card (a tampered copy is
    refused) and shows the contacts it carries."""
    us_dir, ru_dir = tmp_path / "us", tmp_path / "ru"
    for directory, contacts in ((us_dir, US_CONTACTS_3), (ru_dir, RU_CONTACTS)):
        (tmp_path / f"{directory.name}-contacts.json").write_text(
            json.dumps(contacts, ensure_ascii=False), encoding="utf-8"
        )
        ok(directory, "contacts", "set", str(tmp_path / f"{directory.name}-contacts.json"))
    card_file = tmp_path / "ru-card.json"
    ok(ru_dir, "card", "--out", str(card_file), party="ru")
    card = json.loads(card_file.read_text(encoding="utf-8"))
    card["contacts"][0]["channels"][0]["value"] = "+1 202 555 0100"  # a forged number
    forged = tmp_path / "forged-card.json"
    forged.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    refused = cli(us_dir, "peer", "add", str(forged), "--yes")
    assert 0 != refused.exit_code
    assert "signature does not verify" in refused.output
    assert "card updated" in ok(us_dir, "peer", "add", str(card_file), "--yes")
    shown = json.loads(ok(us_dir, "contacts", "show", "--peer", "ru", "--json"))
    assert RU_CONTACTS == shown


def test_an_overdue_message_to_a_dead_peer_climbs_our_ladder_off_the_line(
    production_backend: None, processes: Processes, tmp_path: Path
) -> None:
    exchange_cards(tmp_path)
    processes.us.env = {**processes.us.env, "HOTLINE_ACK_IMMEDIATE_S": "8"}
    processes.us.start()
    processes.ru.start()
    us = Officer(processes.us.url, "us")
    wait_for(lambda: us.get("/api/v1/links?peer=ru")[0]["state"] == "up", "link up", timeout=90)

    processes.ru.stop()  # the peer's node is down: nothing reaches it
    sent = us.post(
        "/api/v1/messages",
        {"to": "ru", "text": "Missile impact at Przewodów", "precedence": "IMMEDIATE"},
    )

    def alert() -> str | None:
        alarms = us.get("/api/v1/alarms?state=open")
        found = [a for a in alarms if (a["kind"], a["subject"]) == ("ack_overdue", sent["id"])]
        return found[0]["detail"].get("alert") if found else None

    assert "watch" == wait_for(alert, "our watch commander alerted", timeout=90)
    [alarm] = [a for a in us.get("/api/v1/alarms?state=open") if a["subject"] == sent["id"]]
    deadline = alarm["detail"]["deadline"]  # raised once the signed deadline passed, not before
    assert (sent["deadline"], True) == (deadline, alarm["raised_at"] >= deadline)
    assert "chief" == wait_for(lambda: alert() == "chief" and "chief", "the next rung", timeout=90)
    links = ("link_test", "link_test_reply")
    outbox = [m for m in us.get("/api/v1/outbox?system=true") if m["type"] not in links]
    assert [(sent["id"], "text")] == [(m["id"], m["type"]) for m in outbox]  # nothing behind
    assert outbox[0]["state"] in ("queued", "sent")  # never delivered

    listed = json.loads(ok(tmp_path / "us", "escalation", "show", sent["id"][:8], "--json"))
    assert ["duty/voice", "duty/fax", "watch/sat"] == [
        c["ref"] for rung in listed["contacts"] for c in rung["channels"]
    ]
    said = ok(
        tmp_path / "us",
        "escalation", "record", sent["id"], "--contact", "sat", "--result", "reached",
        "--note", "Col. Ivanov: node down, will call back",
    )  # fmt: skip
    assert "tried satphone +870 77 000 0003" in said and "reached" in said
    processes.us.stop()  # export reads the database; a stopped node must still prove it
    bundle_file = tmp_path / "bundle.json"
    ok(
        tmp_path / "us",
        "evidence", "export", "--message", sent["id"], "--out", str(bundle_file),
        "--allow-uncosigned",
    )  # fmt: skip
    verdict = verify_bundle(bundle_file.read_bytes(), allow_uncosigned=True)
    assert [] == verdict.failed
    [attempt] = [p for p in verdict.proven if p.startswith("OUT OF BAND")]
    assert "officer 'officer' tried ru's watch by satphone +870 77 000 0003" in attempt
    assert any("delivery NOT PROVEN" in m for m in verdict.missing)
