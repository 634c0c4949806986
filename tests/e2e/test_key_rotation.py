"""Key rotation between two real node processes on mutual TLS: a burst in flight (the
receiver down) when the sender stops, rotates its key (``hotline key rotate``) and starts
again, sending more with the new key; nothing is lost,
every message has its receipt, the peer pins the new key without a re-pin, and evidence
exported before and after the rotation verifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from hotline.cli.app import app
from hotline.services.evidence.verify import verify_bundle
from hotline.storage import log, peers
from hotline.storage.db import Database
from hotline.storage.tables.core import messages
from hotline.storage.tables.evidence import cosigned_checkpoints
from hotline.testing import api, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login

BURST = 30
TYPES = ("text", "key_change")  # not the link tests running alongside


def read(url: str, query: Any) -> list[Any]:
    db = Database(url)
    try:
        with db.read() as conn:
            return list(conn.execute(query).all())
    finally:
        db.dispose()


def outbound(url: str) -> list[tuple[str, str, str | None]]:
    """us's outbound messages in channel order: (type, text or type, receipt)."""
    found = read(
        url,
        select(messages.c.type, messages.c.envelope, messages.c.receipt)
        .where(messages.c.direction == "out", messages.c.type.in_(TYPES))
        .order_by(messages.c.seq),
    )
    return [(t, json.loads(e)["body"].get("text", t), r) for t, e, r in found]


def inbound_texts(url: str) -> list[str]:
    found = read(
        url,
        select(messages.c.type, messages.c.envelope)
        .where(messages.c.direction == "in", messages.c.type.in_(TYPES))
        .order_by(messages.c.seq),
    )
    return [json.loads(e)["body"].get("text", t) for t, e in found]


def log_size(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            return log.head(conn).size
    finally:
        db.dispose()


def cosigned_size(url: str) -> int:
    """The size of the latest checkpoint of us's log that ru co-signed."""
    query = select(cosigned_checkpoints.c.size).where(
        cosigned_checkpoints.c.log == "us", cosigned_checkpoints.c.cosigner == "ru"
    )
    found = read(url, query)
    return max((int(r[0]) for r in found), default=0)


def pinned_key(url: str, party: str) -> str:
    db = Database(url)
    try:
        with db.read() as conn:
            row = peers.get(conn, party)
    finally:
        db.dispose()
    assert row is not None
    return row.fingerprint


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert 0 == result.exit_code, result.output
    return result.stdout


def send(processes: Processes, texts: list[str]) -> None:
    token = login(processes.us.url, "us")
    with api(processes.us, token) as client:
        for text in texts:
            client.post("/api/v1/messages", json={"to": "ru", "text": text}).raise_for_status()


def test_a_rotation_with_messages_in_flight_loses_nothing(
    production_backend: None, processes: Processes, tmp_path: Path
) -> None:
    for party in ("us", "ru"):
        processes.node(party).env["HOTLINE_CHECKPOINT_INTERVAL_S"] = "1"
    us_dir, ru_dir = str(processes.us.directory), str(processes.ru.directory)
    us_db, ru_db = processes.db_urls["us"], processes.db_urls["ru"]
    processes.us.start()
    processes.ru.start()
    old_fp = pinned_key(ru_db, "us")

    send(processes, ["early"])
    wait_for(lambda: outbound(us_db)[0][2], "the early message's receipt", timeout=120)
    covered = log_size(us_db)
    wait_for(lambda: cosigned_size(us_db) >= covered, "a co-signed checkpoint", timeout=120)
    early_id = read(us_db, select(messages.c.id).where(messages.c.type == "text"))[0][0]
    before = tmp_path / "before.json"
    cli("evidence", "export", "--message", early_id, "--out", str(before), "--dir", us_dir)

    burst = [f"burst {i:02d}" for i in range(BURST)]
    processes.ru.stop()  # the burst stays in flight, signed with the old key
    send(processes, burst)
    refused = CliRunner().invoke(app, ["key", "rotate", "--dir", us_dir])
    assert 1 == refused.exit_code and "the node is running" in refused.stderr
    processes.us.stop()
    in_flight = sum(1 for _t, _x, receipt in outbound(us_db) if receipt is None)
    rotated = json.loads(cli("key", "rotate", "--dir", us_dir, "--json"))
    assert (old_fp, ["ru"]) == (rotated["change"]["old_key"], rotated["peers"])
    new_fp = rotated["change"]["new_key"]
    processes.ru.start()
    processes.us.start()
    send(processes, ["after 0", "after 1"])

    expected = ["early", *burst, "key_change", "after 0", "after 1"]
    wait_for(lambda: inbound_texts(ru_db) == expected, "every message at ru", timeout=120)
    wait_for(
        lambda: all(receipt for _t, _x, receipt in outbound(us_db)),
        "a receipt for every message",
        timeout=120,
    )
    assert expected == [text for _t, text, _r in outbound(us_db)]
    assert BURST == in_flight  # the whole burst was in flight when the key changed
    assert new_fp == pinned_key(ru_db, "us")
    shown = json.loads(cli("peer", "show", "us", "--dir", ru_dir, "--json"))
    assert [(old_fp, "retired"), (new_fp, "current")] == [
        (k["fingerprint"], k["state"]) for k in shown["keys"]
    ]
    assert new_fp == shown["fingerprint"]

    # evidence: the bundle exported before still verifies; one exported now covers the
    # early message (signed with the old key) and carries the rotation that proves it
    assert [] == verify_bundle(before.read_bytes()).failed
    size = log_size(us_db)
    wait_for(lambda: cosigned_size(us_db) >= size, "a checkpoint after the rotation", timeout=120)
    after = tmp_path / "after.json"
    cli("evidence", "export", "--message", early_id, "--out", str(after), "--dir", us_dir)
    verdict = verify_bundle(after.read_bytes())
    assert [] == verdict.failed
    assert [rotated["change"]] == json.loads(after.read_bytes())["key_changes"]["us"]
    checked = CliRunner().invoke(app, ["verify", str(after)])
    # 3: INCOMPLETE only because no officer acknowledged "early"; every signature holds
    assert 3 == checked.exit_code, checked.output
    assert f"EARLIER KEY of us: {old_fp}, valid until {rotated['change']['effective']}" in (
        checked.output
    )
