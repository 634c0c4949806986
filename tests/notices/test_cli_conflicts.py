"""The command line shows conflicts with the other side's volumes (issue 16, item 4).

``notice check`` and ``notice send`` print them (distances and times), ``send`` refuses a
notice in conflict unless ``--accept-conflict REASON`` (recorded in the message's trail),
and ``hotline conflicts`` lists the running node's conflicts. A real node serves the API
over HTTP (``ServerThread``); the other side's notice arrives over the pair's line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from hotline.app import create_app
from hotline.cli.main import app as hotline
from hotline.client import NodeClient
from hotline.clock import FakeClock
from hotline.errors import ApiError, VolumeConflict
from hotline.testing import ServerThread, free_port
from tests.conftest import Pair
from tests.services.test_conflicts import corridor_notice

PASSWORD = "owl watch pass"


@pytest.fixture
def served(pair: Pair) -> Iterator[tuple[Pair, dict[str, str]]]:
    """``pair.us`` served over HTTP, holding ru's volume R1; the CLI's environment."""
    theirs = corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000))
    pair.ru.notices.send("us", theirs, precedence="PRIORITY", lang="ru", user="o")
    pair.flush()
    pair.us.auth.add_user("duty1", PASSWORD)
    port = free_port()
    env = {
        "HOTLINE_USER": "duty1",
        "HOTLINE_PASSWORD": PASSWORD,
        "HOTLINE_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_DIR": str(pair.us.settings.directory),
    }
    with ServerThread(create_app(pair.us, start_workers=False), port):
        yield pair, env


def write(tmp_path: Path, name: str, lat: str) -> Path:
    """A notice file of one 5 km circle 0-3,000 m at (36 E, lat)."""
    path = tmp_path / f"{name}.json"
    notice = corridor_notice(name, "36.0000000", lat, (1000, 5000))
    path.write_text(json.dumps(notice), encoding="utf-8")
    return path


def cli(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(hotline, list(args), env=env)


def test_notice_check_prints_the_conflict_with_distances_and_times(
    served: tuple[Pair, dict[str, str]], tmp_path: Path
) -> None:
    pair, env = served
    near = write(tmp_path, "A1", "35.1080000")  # 12 km centre to centre: ~2 km edge to edge
    done = cli(env, "notice", "check", str(near), "--to", "ru", "--from", "us")
    said = " ".join(done.stdout.split())
    [ru_id] = [m["id"] for m in pair.us.line.listing("in", peer="ru", limit=10)]
    assert 1 == done.exit_code, done.output
    assert "CONFLICTS WITH THE OTHER SIDE'S VOLUMES: 1" in said
    assert f"volume A1 of this notice — volume R1 of message {ru_id}" in said
    assert "m (1.0" in said or "m (1.1" in said  # ~1,990 m = 1.07 NM
    assert "0 m (0 ft) vertically" in said
    checked = json.loads(
        cli(env, "notice", "check", str(near), "--to", "ru", "--from", "us", "--json").stdout
    )
    [conflict] = checked["conflicts"]
    assert (True, None, 0) == (
        checked["blocks_sending"],
        checked["conflicts_unchecked"],
        conflict["vertical_m"],
    )
    assert 1500 < conflict["horizontal_m"] < 2500
    assert f"both active {conflict['start']} to {conflict['end']}" in said


def test_notice_check_far_away_has_no_conflict_and_says_so(
    served: tuple[Pair, dict[str, str]], tmp_path: Path
) -> None:
    _pair, env = served
    far = write(tmp_path, "A2", "36.0000000")
    done = cli(env, "notice", "check", str(far), "--to", "ru", "--from", "us")
    assert (0, True) == (done.exit_code, "NO CONFLICT WITH THE OTHER SIDE'S VOLUMES" in done.stdout)


def test_notice_check_without_a_node_says_conflicts_were_not_checked(tmp_path: Path) -> None:
    near = write(tmp_path, "A1", "35.1080000")
    done = CliRunner().invoke(
        hotline,
        ["notice", "check", str(near), "--to", "ru", "--from", "us"],
        env={"HOTLINE_DIR": ""},
    )
    assert 0 == done.exit_code, done.output
    assert "warning: conflicts NOT checked: give --dir of a running node" in done.stderr


def test_notice_send_refuses_a_conflict_and_sends_it_with_a_reason(
    served: tuple[Pair, dict[str, str]], tmp_path: Path
) -> None:
    pair, env = served
    near = write(tmp_path, "A1", "35.1080000")
    refused = cli(env, "notice", "send", str(near), "--to", "ru")
    said = " ".join(refused.output.split())
    assert 1 == refused.exit_code, said
    assert "this notice conflicts with the other side's volumes, so it was not sent" in said
    assert "vertically, both active" in said and "--accept-conflict REASON" in said
    assert [] == pair.us.line.listing("out", peer="ru", limit=10)  # nothing queued

    sent = cli(
        env, "notice", "send", str(near), "--to", "ru", "--accept-conflict", "SAR, lives at risk"
    )
    said = " ".join(sent.output.split())
    assert 0 == sent.exit_code, said
    assert "CONFLICTS WITH THE OTHER SIDE'S VOLUMES: 1" in said
    assert "SENT IN CONFLICT; reason recorded: SAR, lives at risk" in said
    [message] = pair.us.line.listing("out", peer="ru", limit=10)
    trail = pair.us.show(message["id"])["trail"]
    [accepted] = [e for e in trail if e["kind"] == "conflict_accepted"]
    assert ("duty1", "SAR, lives at risk") == (
        accepted["detail"]["by"],
        accepted["detail"]["reason"],
    )
    assert 1 == len(json.loads(accepted["detail"]["conflicts"]))


def test_the_service_refuses_the_same_way_and_rejects_a_blank_reason(
    served: tuple[Pair, dict[str, str]],
) -> None:
    pair, _env = served
    near = corridor_notice("A1", "36.0000000", "35.1080000", (1000, 5000))
    with pytest.raises(VolumeConflict) as refused:
        pair.us.notices.send("ru", near, precedence="ROUTINE", lang="en", user="o")
    assert "volume_conflict" == refused.value.code and 409 == refused.value.http_status
    with pytest.raises(Exception, match="accept_conflict: give the reason"):
        pair.us.notices.send(
            "ru", near, precedence="ROUTINE", lang="en", user="o", accept_conflict="  "
        )


def test_hotline_conflicts_lists_the_nodes_current_conflicts(
    served: tuple[Pair, dict[str, str]], tmp_path: Path
) -> None:
    pair, env = served
    assert {"conflicts": []} == json.loads(cli(env, "conflicts", "--json").stdout)
    near = write(tmp_path, "A1", "35.1080000")
    sent = cli(env, "notice", "send", str(near), "--to", "ru", "--accept-conflict", "drill")
    assert 0 == sent.exit_code, sent.output
    listed = json.loads(cli(env, "conflicts", "--json").stdout)["conflicts"]
    assert [("A1", "R1")] == [
        tuple(sorted((c["a"]["volume_id"], c["b"]["volume_id"]))) for c in listed
    ]
    assert {"us", "ru"} == {listed[0]["a"]["party"], listed[0]["b"]["party"]}
    table = cli(env, "conflicts")
    assert "1 current conflicts between declared volumes" in table.stdout
    # once the shared time is over, the conflict is no longer current, but kept
    clock = pair.us.line.clock
    assert isinstance(clock, FakeClock)
    clock.set(clock.now().replace(year=2030))
    assert [] == json.loads(cli(env, "conflicts", "--json").stdout)["conflicts"]
    assert 1 == len(json.loads(cli(env, "conflicts", "--json", "--all").stdout)["conflicts"])


def test_hotline_conflicts_volumes_still_reads_files(tmp_path: Path) -> None:
    done = CliRunner().invoke(hotline, ["conflicts", "volumes", "--help"])
    assert 0 == done.exit_code and "GeoJSON FeatureCollection" in done.stdout


def api(env: dict[str, str], user: str) -> NodeClient:
    client = NodeClient(env["HOTLINE_URL"])
    client.login(user, PASSWORD)
    return client


def test_the_api_refuses_the_same_way_and_a_held_flash_keeps_the_reason(
    served: tuple[Pair, dict[str, str]],
) -> None:
    pair, env = served
    pair.us.auth.add_user("duty2", PASSWORD)
    near = corridor_notice("A1", "36.0000000", "35.1080000", (1000, 5000))
    with api(env, "duty1") as client:
        with pytest.raises(ApiError) as refused:
            client.post("/api/v1/notices", {"to": "ru", "notice": near})
        assert (409, "volume_conflict") == (refused.value.status, refused.value.error_code)
        with pytest.raises(ApiError) as blank:
            client.post("/api/v1/notices", {"to": "ru", "notice": near, "accept_conflict": ""})
        assert (422, "invalid") == (blank.value.status, blank.value.error_code)
        with pytest.raises(ApiError) as flash:  # refused before it is even held
            client.post("/api/v1/notices", {"to": "ru", "notice": near, "precedence": "FLASH"})
        assert "volume_conflict" == flash.value.error_code
        held = client.post(
            "/api/v1/notices",
            {"to": "ru", "notice": near, "precedence": "FLASH", "accept_conflict": "SAR now"},
        )
    assert "SAR now" == held["payload"]["accept_conflict"]
    with api(env, "duty2") as second:
        second.post(f"/api/v1/held/{held['id']}/approve")
    [message] = pair.us.line.listing("out", peer="ru", limit=10)
    trail = pair.us.show(message["id"])["trail"]
    [accepted] = [e["detail"] for e in trail if e["kind"] == "conflict_accepted"]
    assert ("duty1", "SAR now") == (accepted["by"], accepted["reason"])


def test_a_deconfliction_request_in_conflict_is_sent_without_a_reason(
    served: tuple[Pair, dict[str, str]], tmp_path: Path
) -> None:
    """A request is about a conflict: the conflicts of what it proposes are shown, never a
    reason to stop it (the volume it concerns is a reference, never a conflict itself)."""
    pair, env = served
    [theirs] = pair.us.line.listing("in", peer="ru", limit=10)
    near = corridor_notice("A1", "36.0000000", "35.1080000", (1000, 5000))
    request = {
        "type": "deconfliction_request",
        "refers_to": theirs["id"],
        "concerns": [{"message_id": theirs["id"], "volume_id": "R1", "version": 1}],
        "proposed": near["volumes"],
        "concern": "Our tanker track would pass 2 km from your volume R1.",
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    checked = json.loads(
        cli(env, "notice", "check", str(path), "--from", "us", "--to", "ru", "--json").stdout
    )
    assert (1, False, False) == (
        len(checked["conflicts"]),
        checked["conflict_needs_reason"],
        checked["blocks_sending"],
    )
    sent = cli(env, "notice", "send", str(path), "--to", "ru")
    assert 0 == sent.exit_code, sent.output
    said = " ".join(sent.stdout.split())
    assert "CONFLICTS WITH THE OTHER SIDE'S VOLUMES: 1" in said and "SENT IN CONFLICT" not in said
    [message] = pair.us.line.listing("out", peer="ru", limit=10)
    kinds = [e["kind"] for e in pair.us.show(message["id"])["trail"]]
    assert "conflict_accepted" not in kinds
