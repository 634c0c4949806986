"""``hotline tracks history|export|replay`` against a running node: a recorded window is
exported to a file, replayed into the node's cleared picture, and found in the record."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from hotline.app import create_app
from hotline.cli.main import app
from hotline.clock import rfc3339
from hotline.domain.tracks import TrackReport
from hotline.node import Node
from hotline.testing import ServerThread
from tests.feeds.test_cli import cli_node, invoke, runner


def test_export_replay_and_history_from_the_command_line(tmp_path: Path) -> None:
    us, env, port = cli_node(tmp_path)
    node = Node.open(us)
    t0 = node.clock.now() - timedelta(seconds=2)
    for k in range(3):  # A1 flies east, one report a second
        at = rfc3339(t0 + timedelta(seconds=k))
        node.tracks.report([TrackReport(id="A1", party="us", lat=35.0, lon=35.0 + k * 0.003,
                                        alt_m=5000, gs_mps=250, trk_deg=90, time=at)])  # fmt: skip
    window = ["--from", rfc3339(t0), "--to", rfc3339(t0 + timedelta(seconds=2))]
    recording = tmp_path / "window.jsonl"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "A1"}\n', encoding="utf-8")
    try:
        with ServerThread(create_app(node), port):
            exported = json.loads(invoke("tracks", "export", *window, "-o", str(recording),
                                         "--json", "--dir", str(us), env=env))  # fmt: skip
            node.tracks.clear()
            replayed = json.loads(invoke("tracks", "replay", str(recording), "--speed", "10",
                                         "--json", "--dir", str(us), env=env))  # fmt: skip
            shown = json.loads(invoke("tracks", "show", "--json", "--dir", str(us), env=env))
            until = rfc3339(node.clock.now() + timedelta(seconds=1))
            query = ["--from", rfc3339(t0), "--to", until, "--track", "A1", "--json"]
            history = json.loads(invoke("tracks", "history", *query, "--dir", str(us), env=env))
            refused = runner.invoke(app, ["tracks", "replay", str(bad), "--dir", str(us)], env=env)
    finally:
        node.stop()
    lines = [json.loads(line) for line in recording.read_text(encoding="utf-8").splitlines()]
    assert (3, 3) == (exported["reports"], len(lines))
    assert [35.0, 35.003, 35.006] == [line["lon"] for line in lines]
    assert (3, 1) == (replayed["reports"], replayed["tracks"])
    [a1] = shown["tracks"]
    assert ("A1", 35.0) == (a1["id"], a1["lat"]) and a1["lon"] >= 35.006
    assert 6 == len(history["reports"])  # recorded, and recorded again when replayed
    assert 1 == refused.exit_code and "bad.jsonl, line 1" in refused.output
