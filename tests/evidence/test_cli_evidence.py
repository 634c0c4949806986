"""``hotline evidence export`` takes the short id the listings print, like ``show``."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.services.evidence.verify import verify_bundle
from tests.conftest import Pair
from tests.evidence.conftest import converse


def export(folder: str, message: str, out: Path) -> tuple[int, str]:
    done = CliRunner().invoke(
        app, ["evidence", "export", "--message", message, "--out", str(out), "--dir", folder]
    )
    return done.exit_code, " ".join(done.output.split())


def test_export_takes_the_start_of_the_message_id(pair: Pair, tmp_path: Path) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    folder = str(pair.us.settings.directory)
    out = tmp_path / "evidence.json"
    code, printed = export(folder, message_id[:8], out)
    assert 0 == code, printed
    assert f"message {message_id}," in printed
    verdict = verify_bundle(out.read_bytes())
    assert verdict.ok, verdict.failed

    code, printed = export(folder, message_id[:3], tmp_path / "short.json")
    assert 1 == code and "not a message id" in printed
    assert not (tmp_path / "short.json").exists()
