"""A bundle that lacks a record its message should have says so: never a bare VERIFIED.

What is there still verifies (each signature, each inclusion proof); the verdict names
what is missing, ``hotline verify`` prints INCOMPLETE with those lines and exits 3.
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.protocol import keys
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import signing_bytes
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from tests.conftest import Pair
from tests.evidence.conftest import converse


def without(pair: Pair, raw: bytes, role: str) -> bytes:
    """The bundle without its ``role`` entry, signed again by its exporter (us): what an
    exporter whose log lacks that record would write (versions before 0006_states wrote
    such bundles for a message acknowledged before its receipt came)."""
    bundle = json.loads(raw)
    bundle["entries"] = [e for e in bundle["entries"] if e["role"] != role]
    del bundle["sig"]
    bundle["sig"] = keys.sign(pair.us.identity.key, signing_bytes(bundle))
    return canonical(bundle) + b"\n"


def test_a_bundle_with_the_ack_but_no_receipt_says_delivery_is_not_proven(
    pair: Pair, tmp_path: Path
) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    whole = export_bundle(pair.us.evidence, message_id)
    assert verify_bundle(whole).complete

    lacking = without(pair, whole, "receipt")
    verdict = verify_bundle(lacking)

    assert (True, False) == (verdict.ok, verdict.complete), verdict.failed
    assert [
        "no receipt from ru: delivery NOT PROVEN, although ru acknowledged it: the "
        "exporter's log lacks the receipt it should hold"
    ] == verdict.missing
    assert not any(line.startswith("RECEIVED:") for line in verdict.proven)
    assert any(line.startswith("ACKNOWLEDGED:") for line in verdict.proven)

    path = tmp_path / "lacking.json"
    path.write_bytes(lacking)
    checked = CliRunner().invoke(app, ["verify", str(path)])
    assert 3 == checked.exit_code, checked.output
    assert checked.output.startswith(
        f"INCOMPLETE: {path}: what it holds verifies, but it lacks:\n"
        "  - no receipt from ru: delivery NOT PROVEN, although ru acknowledged it"
    )
    assert "VERIFIED" not in checked.output
    as_json = CliRunner().invoke(app, ["verify", str(path), "--json"])
    answer = json.loads(as_json.stdout)
    assert (3, True, False) == (as_json.exit_code, answer["ok"], answer["complete"])


def test_a_bundle_of_a_message_not_yet_acknowledged_names_what_is_not_proven(
    pair: Pair, tmp_path: Path
) -> None:
    sent = pair.us.line.send(to="ru", text="Not read yet", user="duty")
    pair.flush()
    pair.us.evidence.exchange()
    path = tmp_path / "unread.json"
    path.write_bytes(export_bundle(pair.us.evidence, sent["id"]))

    checked = CliRunner().invoke(app, ["verify", str(path)])

    assert 3 == checked.exit_code, checked.output
    assert checked.output.startswith(f"INCOMPLETE: {path}: what it holds verifies")
    assert "  - no acknowledgement from ru: that a person read it is NOT PROVEN\n" in (
        checked.output
    )
    assert "RECEIVED: ru signed a receipt for this exact message" in checked.output


def test_a_complete_bundle_still_verifies_with_exit_0(pair: Pair, tmp_path: Path) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    path = tmp_path / "whole.json"
    path.write_bytes(export_bundle(pair.us.evidence, message_id))
    checked = CliRunner().invoke(app, ["verify", str(path)])
    assert (0, f"VERIFIED: {path}\n") == (checked.exit_code, checked.output.split("\n")[0] + "\n")
    assert "lacks" not in checked.output
