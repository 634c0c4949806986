"""A naval incident between two real ``hotline serve`` processes (PostgreSQL), end to end.

US reports an unsafe approach at sea; US opens a case from the report with its account
and a photograph; RU joins with its own (its closest approach 17 s later and 1.0 NM east),
then attaches its track history — the ship as its record has it around the incident, fed
to it through ``POST /api/v1/tracks`` — as a new version of its account. Both officers
acknowledge. Both nodes' APIs give the same case, files included and verified, with the
differences computed; RU exports the case's evidence set, which verifies offline
(``hotline verify``) with both files, and a one-byte change to the set, or to either file
inside it, is caught and the file named.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.services.evidence.verify_set import verify_set
from hotline.testing import DatabaseFactory, wait_for
from tests.e2e.conftest import PASSWORDS, Processes
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


PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def notice(officer: Officer, body: dict[str, Any], files: list[Any] | None = None) -> str:
    to = "ru" if officer.party == "us" else "us"
    request = {"to": to, "notice": body, "precedence": "IMMEDIATE"}
    sent = post(officer, "/api/v1/notices", request | ({"attachments": files} if files else {}))
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
        # the incident is weeks old: keep its tracks in the record past the 7 days' default
        processes.node(party).env["HOTLINE_TRACK_RECORD_DAYS"] = "365"
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
    photo = us.http.post(
        us.url + "/api/v1/attachments",
        params={"name": "bridge.png"},
        content=PHOTO,
        headers={"content-type": "image/png"},
    )
    assert photo.is_success, photo.text
    opened = notice(us, ours, [{"sha256": photo.json()["sha256"]}])
    arrived(ru, opened)
    post(ru, f"/api/v1/messages/{opened}/ack", {})
    theirs = account(case_id, report, [event("closest_approach", "2026-11-14T07:03:17Z", lon, lat)])
    theirs["joins"] = opened  # the account that opened the case
    joined = notice(ru, theirs)
    arrived(us, joined)
    post(us, f"/api/v1/messages/{joined}/ack", {})
    ship = [
        {"id": "mmsi:273312340", "party": "ru", "lat": float(lat), "lon": float(lon),
         "alt_m": 0.0, "gs_mps": 8.0, "trk_deg": 90.0, "time": f"2026-11-14T07:0{m}:17Z"}
        for m in range(2, 5)
    ]  # fmt: skip
    post(ru, "/api/v1/tracks", {"tracks": ship})
    tracks = post(ru, f"/api/v1/cases/{case_id}/tracks", {"radius_nm": 5, "minutes": 5})
    amended = str(tracks["message"]["id"])
    arrived(us, amended)
    post(us, f"/api/v1/messages/{amended}/ack", {})

    path = f"/api/v1/cases/{case_id}"
    wait_for(
        lambda: (
            us.holds(path)
            and ru.holds(path)
            and us.get(path) == ru.get(path)
            and us.get(path)["accounts"]["ru"]["current"] == 2
            and {"verified"} == {f["state"] for f in us.get(path)["files"].values()}
        ),
        "the same case on both nodes",
        timeout=DELIVERY_S,
    )
    case = us.get(path)
    (closest,) = case["differences"]["both"]
    assert 17 == closest["time_delta_s"]
    assert abs(1852.0 - closest["distance_m"]) <= 1.0
    assert ["warning_issued"] == [e["key"] for e in case["differences"]["only"]]
    assert [report, *sorted([opened, joined, amended])] == case["message_ids"]
    (history,) = case["accounts"]["ru"]["versions"][1]["attachments"]
    assert "application/geo+json" == history["content_type"]
    exported = ru.http.get(ru.url + f"/api/v1/attachments/{history['sha256']}/content").json()
    (feature,) = exported["features"]
    assert 3 == len(feature["properties"]["times"])
    assert 2 == len(case["files"])
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
    evidence = json.loads(raw)
    assert 4 == len(evidence["bundles"])

    verified = CliRunner().invoke(app, ["verify", str(out)])
    assert 0 == verified.exit_code, verified.output
    assert f"VERIFIED: {out}: evidence set of case {case_id}, 4 messages" in verified.output
    files = [f for b in evidence["bundles"] for f in b.get("attachments", [])]
    assert ["bridge.png", f"case-{case_id[:8]}-tracks-ru.geojson"] == sorted(
        f["name"] for f in files
    )
    for name in ("bridge.png", "tracks-ru.geojson"):
        one_byte_changed_in_a_file_is_caught(evidence, name, tmp_path)

    # the CLI exports the same bytes as were attached (deterministic), and lists the files
    geojson = tmp_path / "tracks.geojson"
    cli = ["case", "tracks", case_id, "--radius-nm", "5", "--minutes", "5", "-o", str(geojson)]
    login = {"HOTLINE_PASSWORD": PASSWORDS["ru"]}
    exported = CliRunner().invoke(app, [*cli, "--dir", ru_dir, "--user", "officer"], env=login)
    assert 0 == exported.exit_code, exported.output
    (attached,) = [f for f in files if f["name"].endswith(".geojson")]
    assert base64.b64decode(attached["data"]) == geojson.read_bytes()
    show = ["case", "show", case_id, "--dir", ru_dir, "--user", "officer"]
    shown = CliRunner().invoke(app, show, env=login)
    assert 0 == shown.exit_code, shown.output
    assert "FILE us v1: bridge.png image/png" in shown.output
    assert f"FILE ru v2: case-{case_id[:8]}-tracks-ru.geojson" in shown.output

    at = raw.index(b"closest_approach") + 2
    changed = tmp_path / "changed.json"
    changed.write_bytes(raw[:at] + bytes([raw[at] ^ 0x20]) + raw[at + 1 :])
    refused = CliRunner().invoke(app, ["verify", str(changed)])
    assert 1 == refused.exit_code, refused.output
    assert "NOT VERIFIED" in refused.output


def one_byte_changed_in_a_file_is_caught(evidence: dict[str, Any], name: str, tmp: Path) -> None:
    """Flip one byte of the file ``name`` inside the set: verify fails and names it."""
    changed = json.loads(json.dumps(evidence))
    (item,) = [
        f for b in changed["bundles"] for f in b.get("attachments", []) if f["name"].endswith(name)
    ]
    data = bytearray(base64.b64decode(item["data"]))
    data[len(data) // 2] ^= 0x01
    item["data"] = base64.b64encode(bytes(data)).decode()
    path = tmp / f"changed-{name}.json"
    path.write_text(json.dumps(changed))
    refused = CliRunner().invoke(app, ["verify", str(path)])
    assert 1 == refused.exit_code, refused.output
    assert "NOT VERIFIED" in refused.output and item["name"] in refused.output
