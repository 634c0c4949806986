"""``hotline feed add|list|remove`` on a node's folder while the node runs: the running
node picks a new feed up, lists its health, and its tracks show in ``tracks show``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.app import create_app
from hotline.cli.main import app
from hotline.node import Node
from hotline.testing import ServerThread, free_port, wait_for
from tests.feeds.conftest import TcpServer, data

runner = CliRunner()


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, env=env)
    assert 0 == result.exit_code, result.output
    return result.output


def cli_node(tmp_path: Path) -> tuple[Path, dict[str, str], int]:
    """A node made with the CLI, its officer duty1, and the environment that points the
    CLI at it once it is served on the port given: (directory, environment, port)."""
    port = free_port()
    us = tmp_path / "us"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    invoke("init", "--party", "us", "--name", "United States", "--dir", str(us),
           "--endpoint", f"http://127.0.0.1:{port}", "--allow-plain-http", env=clean)  # fmt: skip
    invoke("user", "add", "duty1", "--dir", str(us), "--password-stdin", input="owl watch pass\n")
    env = {
        "HOTLINE_USER": "duty1",
        "HOTLINE_PASSWORD": "owl watch pass",
        "HOTLINE_URL": f"http://127.0.0.1:{port}",
    }
    return us, env, port


def test_feed_add_list_remove_against_a_running_node(tmp_path: Path) -> None:
    us, env, port = cli_node(tmp_path)
    node = Node.open(us)
    receiver = TcpServer()
    try:
        with ServerThread(create_app(node), port):
            added = invoke("feed", "add", "adsb", "--kind", "sbs1", "--party", "own",
                           "--connect", f"127.0.0.1:{receiver.port}", "--dir", str(us))  # fmt: skip
            receiver.send(data("sbs1.txt"))  # the running node connected to it
            listed = wait_for(
                lambda: (
                    (rows := json.loads(invoke("feed", "list", "--dir", str(us), "--json")))
                    and (rows[0]["health"] or {}).get("messages") == 7
                    and rows
                ),
                "the feed's health listed",
                timeout=90,
            )
            shown = json.loads(invoke("tracks", "show", "--dir", str(us), "--json", env=env))
            table = invoke("feed", "list", "--dir", str(us))
            refused = runner.invoke(app, ["feed", "add", "x", "--kind", "nmea", "--party", "own",
                                          "--connect", "h:1", "--dir", str(us)])  # fmt: skip
            invoke("feed", "remove", "adsb", "--dir", str(us))
            after = json.loads(invoke("feed", "list", "--dir", str(us), "--json"))
    finally:
        receiver.close()
        node.stop()
    assert f"Feed adsb added: sbs1 connect tcp 127.0.0.1:{receiver.port}" in added
    assert ("adsb", "us", 3, True) == (
        listed[0]["name"],
        listed[0]["party"],
        listed[0]["health"]["errors"],
        listed[0]["health"]["connected"],
    )
    # flown on from the report to now (dead reckoning): 450 kt east is 0.003 deg a second
    assert {"icao:3C6DD4": (34.875, 33.625), "icao:4CA2D6": (35.1, 33.2)} == {
        t["id"]: (pytest.approx(t["lat"], abs=0.01), pytest.approx(t["lon"], abs=0.05))
        for t in shown["tracks"]
    }
    assert "adsb" in table and "connected" in table
    assert 1 == refused.exit_code and "unknown feed kind 'nmea'" in refused.output
    assert [] == after
