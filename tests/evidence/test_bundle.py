"""Evidence bundles: exported from a node's folder, verified with nothing but the file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.errors import Conflict
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from tests.conftest import Pair
from tests.evidence.conftest import converse

#: Runs ``hotline verify`` with every way out cut: sockets and database engines raise.
OFFLINE = """
import socket, sys
import sqlalchemy
def refuse(*args, **kwargs):
    raise RuntimeError("verify tried to use the network or a database")
socket.socket.connect = refuse
socket.create_connection = refuse
sqlalchemy.create_engine = refuse
from hotline.cli.main import main
sys.argv = ["hotline", "verify", *sys.argv[1:]]
main()
"""


def offline_verify(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [sys.executable, "-c", OFFLINE, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_bundle_exported_by_the_cli_verifies_offline_after_the_nodes_are_gone(
    pair: Pair, tmp_path: Path
) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()
    out = tmp_path / "evidence.json"
    folder = str(pair.us.settings.directory)
    exported = CliRunner().invoke(
        app, ["evidence", "export", "--message", message_id, "--out", str(out), "--dir", folder]
    )
    assert 0 == exported.exit_code, exported.output
    assert "checkpoint co-signed by both nodes" in exported.output
    from_ru = export_bundle(pair.ru.evidence, message_id)  # the receiver proves it too
    pair.us.stop()
    pair.ru.stop()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(out, elsewhere / "us.json")
    tampered = bytearray(out.read_bytes())
    tampered[tampered.index(b"Test of the line") + 5] ^= 0x01  # one bit of the text
    (elsewhere / "tampered.json").write_bytes(bytes(tampered))

    checked = offline_verify("us.json", cwd=elsewhere)
    assert 0 == checked.returncode, checked.stdout + checked.stderr
    assert checked.stdout.startswith("VERIFIED: us.json")
    assert f"SENT: us signed message {message_id} to ru" in checked.stdout
    assert "ACKNOWLEDGED: ru signed that its officer 'ofitser' read it" in checked.stdout
    assert "entries 0, 1, 2, 3 of us's log" in checked.stdout
    assert "entries 0, 1, 2, 3 of ru's log" in "\n".join(verify_bundle(from_ru).proven)
    refused = CliRunner().invoke(app, ["verify", str(elsewhere / "tampered.json")])
    assert 1 == refused.exit_code
    assert refused.output.startswith("NOT VERIFIED: ")
    assert "envelope (entry 0): its signature does not verify with us's key" in refused.output


def test_a_message_no_co_signed_checkpoint_covers_yet_is_exported_only_when_allowed(
    pair: Pair, tmp_path: Path
) -> None:
    sent = pair.us.line.send(to="ru", text="Not yet acknowledged", user="duty1")
    pair.flush()
    with pytest.raises(Conflict) as caught:
        export_bundle(pair.us.evidence, sent["id"])
    assert "no checkpoint of this log co-signed by ru covers entry 1 yet" in caught.value.message
    assert "--allow-uncosigned" in str(caught.value.hint)

    raw = export_bundle(pair.us.evidence, sent["id"], allow_uncosigned=True)
    assert (False, ["envelope", "receipt"]) == (
        json.loads(raw)["cosigned"],
        [e["role"] for e in json.loads(raw)["entries"]],
    )
    refused = verify_bundle(raw)
    assert ["checkpoint: not co-signed by hotline/ru:"] == [f[:40] for f in refused.failed]
    accepted = verify_bundle(raw, allow_uncosigned=True)
    assert accepted.ok
    assert "signed by us ONLY (not co-signed)" in accepted.proven[-3]
    assert (False, ["no acknowledgement from ru: that a person read it is NOT PROVEN"]) == (
        accepted.complete,
        accepted.missing,
    )

    pair.us.evidence.exchange()
    assert json.loads(export_bundle(pair.us.evidence, sent["id"]))["cosigned"]


def test_export_to_a_folder_that_does_not_exist_says_so_and_exits_2(
    pair: Pair, tmp_path: Path
) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    out = tmp_path / "no such folder" / "evidence.json"
    folder = str(pair.us.settings.directory)
    exported = CliRunner().invoke(
        app, ["evidence", "export", "--message", message_id, "--out", str(out), "--dir", folder]
    )
    assert 2 == exported.exit_code
    assert "" == exported.stdout
    assert exported.stderr.startswith(f"error: cannot write {out}: No such file or directory\n")
    assert "Traceback" not in exported.output
    assert not out.parent.exists()
