"""A naval incident between two real ``hotline serve`` processes (PostgreSQL), end to end.

US reports an unsafe approach at sea; US opens a case from the report with its account;
RU joins with its own (its closest approach 17 s later and 1.0 NM east). Both officers
acknowledge. Both nodes' APIs give the same case, with the differences computed; RU
exports the case's evidence set, which verifies offline (``hotline verify``), and a one-byte
change to it is caught.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.services.evidence.verify_set import verify_set
from hotline.testing import DatabaseFactory, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_negotiation_life import DELIVERY_S, Officer
from tests.services.test_cases import account, event, one_nm_east
from tests.services.test_notices import example


@pytest.fixture
def postgresql_only(databases: DatabaseFactory) -> None:
    if databases.backend != "postgresql":
        pytest.skip("one end-to-end run is enough: the storage is covered by the service tests")


def post(officer: Officer, path: str, body: dict[str, Any]) -> Any:
    response = officer.http.post(officer.url + path, json=body)
    assert response.is_success, response.text
    return response.json()


def notice(officer: Officer, body: dict[str, Any]) -> str:
    to = "ru" if officer.party == "us" else "us"
    sent = post(officer, "/api/v1/notices", {"to": to, "notice": body, "precedence": "IMMEDIATE"})
    return str(sent["message"]["id"])


def arrived(officer: Officer, message_id: str) -> None:
    wait_for(
        lambda: officer.holds(f"/api/v1/messages/{message_id}"),
        f"message {message_id} at {officer.party}",
        timeout=DELIVERY_S,
    )


def test_a_naval_incident_becomes_one_case_on_both_nodes_with_its_evidence(
    postgresql_only: None, processes: Processes, tmp_path: Path
) -> None:
    for party in ("us", "ru"):
        processes.node(party).env["HOTLINE_CHECKPOINT_INTERVAL_S"] = "1"
    processes.us.start()
    processes.ru.start()
    us, ru = Officer(processes.us.url, "us"), Officer(processes.ru.url, "ru")
    try:
        case_id = play(us, ru)
        prove(processes, case_id, tmp_path)
    finally:
        us.close()
        ru.close()


def play(us: Officer, ru: Officer) -> str:
    report = notice(us, example("incident_report") | {"category": "unsafe_approach_at_sea"})
    arrived(ru, report)
    post(ru, f"/api/v1/messages/{report}/ack", {})
    case_id = str(uuid.uuid4())
    lon, lat = one_nm_east("32.5000000", "43.2500000")
    ours = account(
        case_id,
        report,
        [
            event("closest_approach", "2026-11-14T07:03:00Z", "32.5000000", "43.2500000"),
            event("warning_issued", "2026-11-14T07:01:00Z", "32.4900000", "43.2400000"),
        ],
    )
    opened = notice(us, ours)
    arrived(ru, opened)
    post(ru, f"/api/v1/messages/{opened}/ack", {})
    theirs = account(case_id, report, [event("closest_approach", "2026-11-14T07:03:17Z", lon, lat)])
    theirs["joins"] = opened  # the account that opened the case
    joined = notice(ru, theirs)
    arrived(us, joined)
    post(us, f"/api/v1/messages/{joined}/ack", {})

    path = f"/api/v1/cases/{case_id}"
    wait_for(
        lambda: (
            us.holds(path)
            and ru.holds(path)
            and us.get(path) == ru.get(path)
            and us.get(path)["accounts"]["ru"]["current"] == 1
        ),
        "the same case on both nodes",
        timeout=DELIVERY_S,
    )
    case = us.get(path)
    (closest,) = case["differences"]["both"]
    assert 17 == closest["time_delta_s"]
    assert abs(1852.0 - closest["distance_m"]) <= 1.0
    assert ["warning_issued"] == [e["key"] for e in case["differences"]["only"]]
    assert [report, *sorted([opened, joined])] == case["message_ids"]
    return case_id


def prove(processes: Processes, case_id: str, tmp_path: Path) -> None:
    out = tmp_path / "case.json"
    ru_dir = str(processes.ru.directory)

    def exported_complete() -> bool:
        done = CliRunner().invoke(
            app, ["evidence", "export", "--case", case_id, "--out", str(out), "--dir", ru_dir]
        )
        return done.exit_code == 0 and verify_set(out.read_bytes()).complete

    # the acknowledgements' receipts and a co-signed checkpoint covering them come in time
    wait_for(exported_complete, "a complete, co-signed evidence set", timeout=DELIVERY_S)
    raw = out.read_bytes()
    assert 3 == len(json.loads(raw)["bundles"])

    verified = CliRunner().invoke(app, ["verify", str(out)])
    assert 0 == verified.exit_code, verified.output
    assert f"VERIFIED: {out}: evidence set of case {case_id}, 3 messages" in verified.output

    at = raw.index(b"closest_approach") + 2
    changed = tmp_path / "changed.json"
    changed.write_bytes(raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :])
    refused = CliRunner().invoke(app, ["verify", str(changed)])
    assert 1 == refused.exit_code, refused.output
    assert "NOT VERIFIED" in refused.output
