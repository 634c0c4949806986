"""A real ``hotline serve`` process restarted in the middle of a feed keeps its picture: it
takes the tracks back from its record at once (before the feed says anything more), and
the record holds the reports from before and after the restart."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.testing import DatabaseFactory, api, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login
from tests.feeds.conftest import TcpServer, data

LATER = b"MSG,3,1,1,4CA2D6,1,2026/12/07,04:00:09.000,2026/12/07,04:00:09.000,,35000,,,35.2000,33.3000,,,0,0,0,0\n"  # noqa: E501


def test_a_node_restarted_mid_feed_keeps_its_recorded_picture(
    processes: Processes, databases: DatabaseFactory
) -> None:
    if databases.backend != "postgresql":
        pytest.skip("one end-to-end run: PostgreSQL (the service tests cover SQLite)")
    us = processes.us
    receiver = TcpServer()
    us.start()
    try:
        added = CliRunner().invoke(
            app,
            ["feed", "add", "adsb", "--kind", "sbs1", "--party", "own",
             "--connect", f"127.0.0.1:{receiver.port}", "--dir", str(us.directory)],
        )  # fmt: skip
        assert 0 == added.exit_code, added.output
        receiver.send(data("sbs1.txt"))
        before = wait_for(
            lambda: _tracks(us, {"icao:4CA2D6", "icao:3C6DD4"}), "tracks", timeout=120
        )

        us.stop()  # the receiver goes on listening: the feed is cut mid-stream
        clients = len(receiver.clients)
        us.start()
        # taken back from the record as the process becomes active; the feed has said
        # nothing since (nothing is sent on its new connection before the check below)
        after = wait_for(
            lambda: _tracks(us, {"icao:4CA2D6", "icao:3C6DD4"}), "the picture back", timeout=60
        )

        wait_for(lambda: len(receiver.clients) > clients, "the feed reconnected", timeout=120)
        receiver.clients[-1].sendall(LATER)
        moved = wait_for(
            lambda: (
                (t := _tracks(us, {"icao:4CA2D6", "icao:3C6DD4"}))
                and t["icao:4CA2D6"]["lat"] > 35.15
                and t
            ),
            "the feed's next report",
            timeout=120,
        )
        history = CliRunner().invoke(
            app,
            ["tracks", "history", "--from", "2020-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z",
             "--track", "icao:4CA2D6", "--json", "--user", "officer", "--dir", str(us.directory)],
            env={"HOTLINE_PASSWORD": "us-test-password"},
        )  # fmt: skip
    finally:
        us.stop()
        receiver.close()
    assert before["icao:4CA2D6"]["lat"] == pytest.approx(after["icao:4CA2D6"]["lat"], abs=0.05)
    assert ("RYR12AB", "feed") == (after["icao:4CA2D6"]["callsign"], after["icao:4CA2D6"]["source"])
    assert moved["icao:4CA2D6"]["lat"] == pytest.approx(35.2, abs=0.01)
    assert 0 == history.exit_code, history.output
    lats = [r["lat"] for r in json.loads(history.stdout)["reports"]]
    assert 35.1 == lats[0] and 35.2 == lats[-1]  # before the restart and after it


def _tracks(node: Any, ids: set[str]) -> dict[str, dict[str, Any]] | None:
    with api(node, login(node.url, "us")) as client:
        tracks = {t["id"]: t for t in client.get("/api/v1/tracks").json()["tracks"]}
    return tracks if set(tracks) == ids else None
