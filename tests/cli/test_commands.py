"""The `hotline` command: setting up nodes on disk, and talking to a running one."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.app import create_app
from hotline.cli.main import app
from hotline.node import Node
from hotline.testing import ServerThread, free_port

runner = CliRunner()


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, env=env)
    assert 0 == result.exit_code, result.output
    return result.output


@pytest.fixture
def two_dirs(tmp_path: Path) -> tuple[Path, Path, int]:
    port = free_port()
    us, ru = tmp_path / "us", tmp_path / "ru"
    invoke(
        "init",
        "--party",
        "us",
        "--name",
        "United States",
        "--dir",
        str(us),
        "--endpoint",
        f"http://127.0.0.1:{port}",
        "--allow-plain-http",  # served in-process, plain HTTP on loopback
    )
    invoke(
        "init",
        "--party",
        "ru",
        "--name",
        "Russian Federation",
        "--name-ru",
        "Российская Федерация",
        "--lang",
        "ru",
        "--dir",
        str(ru),
    )
    return us, ru, port


def test_init_creates_settings_a_private_key_and_a_database(
    two_dirs: tuple[Path, Path, int],
) -> None:
    us, _ru, _port = two_dirs
    assert {"hotline.toml", "node.key", "hotline.db"} <= {p.name for p in us.iterdir()}
    assert 0o600 == stat.S_IMODE((us / "node.key").stat().st_mode)


def test_init_refuses_an_existing_node(two_dirs: tuple[Path, Path, int]) -> None:
    us, _ru, _port = two_dirs
    result = runner.invoke(app, ["init", "--party", "us", "--name", "X", "--dir", str(us)])
    assert 1 == result.exit_code
    assert "already holds a node" in result.output


def test_card_prints_the_fingerprint_and_peer_add_pins_it(
    two_dirs: tuple[Path, Path, int], tmp_path: Path
) -> None:
    us, ru, _port = two_dirs
    card = json.loads(invoke("card", "--dir", str(ru), "--json"))
    assert ("ru", "Российская Федерация") == (card["party"], card["name_ru"])
    card_file = tmp_path / "ru-card.json"
    card_file.write_text(json.dumps(card))
    output = invoke("peer", "add", str(card_file), "--dir", str(us), input="y\n")
    spoken = card["fingerprint"].split(":")[1][:4].upper()
    assert spoken in output and "pinned" in output
    peers = json.loads(invoke("peer", "list", "--dir", str(us), "--json"))
    assert [("ru", card["fingerprint"])] == [(p["party"], p["fingerprint"]) for p in peers]


def test_peer_add_refuses_a_tampered_card(two_dirs: tuple[Path, Path, int], tmp_path: Path) -> None:
    us, ru, _port = two_dirs
    card = json.loads(invoke("card", "--dir", str(ru), "--json"))
    card["endpoints"] = ["http://evil.example"]
    card_file = tmp_path / "bad.json"
    card_file.write_text(json.dumps(card))
    result = runner.invoke(app, ["peer", "add", str(card_file), "--dir", str(us), "--yes"])
    assert 1 == result.exit_code
    assert "signature does not verify" in result.output


def test_peer_add_without_confirmation_pins_nothing(
    two_dirs: tuple[Path, Path, int], tmp_path: Path
) -> None:
    us, ru, _port = two_dirs
    card_file = tmp_path / "ru-card.json"
    invoke("card", "--dir", str(ru), "--out", str(card_file))
    result = runner.invoke(app, ["peer", "add", str(card_file), "--dir", str(us)], input="n\n")
    assert 1 == result.exit_code
    assert [] == json.loads(invoke("peer", "list", "--dir", str(us), "--json"))


def test_commands_against_a_running_node(two_dirs: tuple[Path, Path, int], tmp_path: Path) -> None:
    us, ru, port = two_dirs
    card_file = tmp_path / "ru-card.json"
    invoke("card", "--dir", str(ru), "--out", str(card_file))
    invoke("peer", "add", str(card_file), "--dir", str(us), "--yes")
    invoke("user", "add", "duty1", "--dir", str(us), "--password-stdin", input="owl watch pass\n")
    env = {
        "HOTLINE_USER": "duty1",
        "HOTLINE_PASSWORD": "owl watch pass",
        "HOTLINE_URL": f"http://127.0.0.1:{port}",  # the in-process server, not a listener
    }
    node = Node.open(us)
    with ServerThread(create_app(node, start_workers=False), port):
        sent = json.loads(
            invoke(
                "send",
                "--to",
                "ru",
                "--precedence",
                "immediate",
                "Test",
                "--dir",
                str(us),
                "--json",
                env=env,
            )
        )
        assert ("IMMEDIATE", "queued") == (sent["precedence"], sent["state"])
        held = invoke("send", "--to", "ru", "--precedence", "flash", "Now", "--dir", str(us),
                      env=env)  # fmt: skip
        assert "FLASH held" in held and "hotline held approve" in held
        [waiting] = json.loads(invoke("held", "list", "--dir", str(us), "--json", env=env))
        assert ("duty1", "held", {"text": "Now"}) == (
            waiting["requested_by"],
            waiting["state"],
            waiting["payload"],
        )
        refused = runner.invoke(
            app, ["held", "approve", waiting["id"], "--dir", str(us)], env=env
        )  # the one who asked may not approve
        assert 1 == refused.exit_code and "may not approve" in refused.output
        outbox = json.loads(invoke("outbox", "--dir", str(us), "--json", env=env))
        assert [sent["id"]] == [m["id"] for m in outbox]
        shown = json.loads(invoke("show", sent["id"], "--dir", str(us), "--json", env=env))
        assert ["created"] == [s["kind"] for s in shown["trail"]]
        status = json.loads(invoke("status", "--dir", str(us), "--json", env=env))
        assert {"queued": 1} == status["messages"]["out"]
        assert [] == json.loads(invoke("inbox", "--dir", str(us), "--json", env=env))


def test_a_node_that_is_not_running_is_reported_plainly(two_dirs: tuple[Path, Path, int]) -> None:
    us, _ru, _port = two_dirs
    operator = free_port()
    env = {
        "HOTLINE_USER": "duty1",
        "HOTLINE_PASSWORD": "owl watch pass",
        "HOTLINE_OPERATOR_LISTEN": f"127.0.0.1:{operator}",
    }
    result = runner.invoke(app, ["inbox", "--dir", str(us)], env=env)
    assert 1 == result.exit_code
    assert f"cannot reach the node at https://127.0.0.1:{operator}" in result.output


def test_missing_credentials_are_explained(two_dirs: tuple[Path, Path, int]) -> None:
    us, _ru, _port = two_dirs
    env = {k: "" for k in ("HOTLINE_USER", "HOTLINE_PASSWORD")}
    result = runner.invoke(app, ["inbox", "--dir", str(us)], env=env)
    assert 1 == result.exit_code
    assert "HOTLINE_PASSWORD" in result.output


def test_a_folder_without_a_node_is_explained(tmp_path: Path) -> None:
    result = runner.invoke(app, ["card", "--dir", str(tmp_path)])
    assert 1 == result.exit_code
    assert "hotline init" in result.output


def test_the_demo_plays_and_exits_zero(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    result = runner.invoke(app, ["demo", "--once", "--dir", str(tmp_path / "demo")], env=env)
    assert 0 == result.exit_code, result.output
    assert 6 == result.output.count("│ acknowledged │")


def test_tracks_feed_show_and_areas_against_a_running_node(
    two_dirs: tuple[Path, Path, int], tmp_path: Path
) -> None:
    us, _ru, port = two_dirs
    invoke("user", "add", "radar1", "--dir", str(us), "--role", "feed", "--password-stdin",
           input="owl watch pass\n")  # fmt: skip
    invoke("user", "add", "duty1", "--dir", str(us), "--password-stdin", input="owl watch pass\n")
    url = {"HOTLINE_URL": f"http://127.0.0.1:{port}"}  # the in-process server
    env = {"HOTLINE_USER": "radar1", "HOTLINE_PASSWORD": "owl watch pass", **url}
    officer = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "owl watch pass", **url}
    tracks = tmp_path / "tracks.csv"
    tracks.write_text(
        "id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n"
        "U2,us,34.0,33.0,6000,200,90,0\n"
        "R1,ru,34.0,33.3,6000,200,270,0\n"
    )
    node = Node.open(us)
    with ServerThread(create_app(node, start_workers=False), port):
        fed = invoke("tracks", "feed", str(tracks), "--dir", str(us), env=env)
        shown = json.loads(invoke("tracks", "show", "--dir", str(us), "--json", env=env))
        table = invoke("tracks", "show", "--dir", str(us), env=env)
        areas = json.loads(invoke("areas", "--dir", str(us), "--json", env=officer))
        refused = runner.invoke(app, ["areas", "--dir", str(us)], env=env)  # a feed reads no more
    assert "reported 2: 2 tracks, 1 predicted conflicts" in fed
    assert [("R1", "U2")] == [(c["a"], c["b"]) for c in shown["conflicts"]]
    assert "Predicted conflicts" in table and "R1" in table
    assert {"type": "FeatureCollection", "features": []} == areas
    assert 1 == refused.exit_code and "radar1 (feed) may not do GET /api/v1/areas" in refused.output


def test_tracks_feed_names_the_bad_line(two_dirs: tuple[Path, Path, int], tmp_path: Path) -> None:
    us, _ru, _port = two_dirs
    tracks = tmp_path / "tracks.csv"
    tracks.write_text(
        "id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\nU2,us,94.0,33.0,6000,200,90,0\n"
    )
    result = runner.invoke(app, ["tracks", "feed", str(tracks), "--dir", str(us)])
    assert 0 != result.exit_code
    assert "line 2" in result.output and "lat" in result.output
