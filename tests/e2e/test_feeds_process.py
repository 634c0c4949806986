"""A real ``hotline serve`` process picks up a feed added on its folder by ``hotline feed
add`` (another process), reads it, and shows its tracks and health over HTTP."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.testing import api, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login
from tests.feeds.conftest import TcpServer, data


def test_a_running_node_process_picks_up_a_feed_added_from_the_command_line(
    production_backend: None,
    processes: Processes,
) -> None:
    us = processes.us
    receiver = TcpServer()
    us.start()
    try:
        result = CliRunner().invoke(
            app,
            ["feed", "add", "adsb", "--kind", "sbs1", "--party", "own",
             "--connect", f"127.0.0.1:{receiver.port}", "--dir", str(us.directory)],
        )  # fmt: skip
        assert 0 == result.exit_code, result.output
        receiver.send(data("sbs1.txt"))  # the serving process connected
        with api(us, login(us.url, "us")) as client:

            def health() -> dict[str, Any]:
                return client.get("/api/v1/feeds").json()["feeds"][0]["health"] or {}

            read = wait_for(
                lambda: (h := health()).get("messages") == 7 and h, "the feed read", timeout=120
            )
            ids = wait_for(
                lambda: (
                    (t := {x["id"] for x in client.get("/api/v1/tracks").json()["tracks"]})
                    == {"icao:4CA2D6", "icao:3C6DD4"}
                    and t
                ),
                "the feed's tracks",
                timeout=120,
            )
            removed = CliRunner().invoke(
                app, ["feed", "remove", "adsb", "--dir", str(us.directory)]
            )
            assert 0 == removed.exit_code, removed.output
            wait_for(lambda: _closed(receiver), "the node to hang up", timeout=120)
            after = client.get("/api/v1/feeds").json()["feeds"]
    finally:
        us.stop()
        receiver.close()
    assert {"icao:4CA2D6", "icao:3C6DD4"} == ids
    assert (3, True, []) == (read["errors"], read["connected"], after)


def _closed(receiver: TcpServer) -> bool:
    """Whether the node hung up (a read sees the end of the stream)."""
    client = receiver.clients[-1]
    client.settimeout(0.1)
    try:
        return client.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True
