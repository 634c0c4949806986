"""An attachment between two real ``hotline serve`` processes (PostgreSQL, mutual TLS): a
1.5 MiB image sent with ``hotline send --attach`` crosses in chunks; its sender is killed
mid-transfer and, once back, serves only the chunks still missing; the receiver ends up
with the identical bytes (``hotline attachment get``); the receiver's evidence bundle
verifies offline, and one flipped byte of the attachment is caught and named."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.protocol.canonical import canonical
from hotline.services.evidence.verify import verify_bundle
from hotline.storage.db import Database
from hotline.storage.tables.attachments import blob_chunks, blobs
from hotline.storage.tables.core import messages
from hotline.testing import DatabaseFactory, wait_for
from tests.attachments.test_attachments import png
from tests.e2e.conftest import PASSWORDS, Processes
from tests.evidence.test_bundle import offline_verify

CHUNK = 8192  # 1.5 MiB in ~190 chunks: long enough to cut the transfer in its middle
runner = CliRunner()


@pytest.fixture
def postgresql_only(databases: DatabaseFactory) -> None:
    if databases.backend != "postgresql":
        pytest.skip("one end-to-end run: PostgreSQL (the service tests cover SQLite)")


def cli(procs: Processes, party: str, *args: str) -> str:
    env = {"HOTLINE_USER": "officer", "HOTLINE_PASSWORD": PASSWORDS[party]}
    folder = str(procs.node(party).directory)
    result = runner.invoke(app, [*args, "--dir", folder], env=env, terminal_width=200)
    assert 0 == result.exit_code, result.output
    return result.output


def count(url: str, query: object) -> int:
    db = Database(url)
    try:
        with db.read() as conn:
            return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]
    finally:
        db.dispose()


def chunk_requests(procs: Processes) -> int:
    """Chunk requests the sender's federation listener answered (its access log)."""
    lines = (procs.us.directory / "access.log").read_text("utf-8").splitlines()
    return sum(1 for line in lines if "/chunks/" in json.loads(line).get("path", ""))


def test_an_image_crosses_in_chunks_resumes_after_a_kill_and_its_bundle_verifies(
    postgresql_only: None, processes: Processes, tmp_path: Path
) -> None:
    procs = processes
    procs.us.env["HOTLINE_ATTACHMENT_CHUNK_BYTES"] = str(CHUNK)
    procs.us.start()
    procs.ru.start()
    image = tmp_path / "radar.png"
    data = png(1_500_000)
    image.write_bytes(data)
    total = -(-len(data) // CHUNK)

    said = cli(procs, "us", "send", "--to", "ru", "--attach", str(image), "--json", "Radar plot")
    message_id = json.loads(said)["id"]
    digest = hashlib.sha256(data).hexdigest()
    stored = select(func.count()).select_from(blob_chunks).where(blob_chunks.c.sha256 == digest)
    ru_db = procs.db_urls["ru"]
    wait_for(lambda: count(ru_db, stored) >= 10, "the first chunks to arrive", timeout=60)
    procs.us.kill()  # the sender dies mid-transfer
    before = count(ru_db, stored)
    assert 0 < before < total
    received = select(messages.c.state).where(messages.c.id == message_id)
    db = Database(ru_db)
    try:
        with db.read() as conn:  # the envelope itself is in, receipted, and waits for its file
            assert "received" == conn.execute(received).scalar_one()
            state = select(blobs.c.state).where(blobs.c.sha256 == digest)
            assert "partial" == conn.execute(state).scalar_one()
    finally:
        db.dispose()

    served_before = chunk_requests(procs)
    procs.us.start()
    complete = (
        select(func.count())
        .select_from(blobs)
        .where(blobs.c.sha256 == digest, blobs.c.state == "complete")
    )
    wait_for(lambda: count(ru_db, complete) == 1, "the file to be complete at ru", timeout=120)
    # resumed, not restarted: after the restart only the missing chunks were asked for
    assert total - before == chunk_requests(procs) - served_before

    copy = tmp_path / "copy.png"
    cli(procs, "ru", "attachment", "get", digest, "-o", str(copy))
    assert data == copy.read_bytes()

    bundle = tmp_path / "bundle.json"
    cli(
        procs,
        "ru",
        "evidence",
        "export",
        "--message",
        message_id,
        "--out",
        str(bundle),
        "--allow-uncosigned",
    )
    procs.us.stop()
    procs.ru.stop()
    verified = offline_verify(str(bundle), "--allow-uncosigned", cwd=tmp_path)
    assert "ATTACHMENT 1: 'radar.png'" in verified.stdout, verified.stdout + verified.stderr

    obj = json.loads(bundle.read_bytes())
    flipped = bytearray(base64.b64decode(obj["attachments"][0]["data"]))
    flipped[777_777] ^= 0x80
    obj["attachments"][0]["data"] = base64.b64encode(bytes(flipped)).decode()
    refused = verify_bundle(canonical(obj) + b"\n", allow_uncosigned=True)
    [named] = [f for f in refused.failed if f.startswith("attachment 1 ('radar.png')")]
    assert f"not the SHA-256 {digest}" in named
