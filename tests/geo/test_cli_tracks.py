"""The ``conflicts tracks`` and ``conflicts incursions`` commands, through a throwaway app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hotline.cli.conflicts import incursions_command, tracks_command

app = typer.Typer()
app.command("tracks")(tracks_command)
app.command("incursions")(incursions_command)

HEADER = "id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\n"
# Two head-on at the equator 30 km apart (different parties); a third of the first's
# party 1 km north of it (same party: in loss of separation now).
ROWS = [
    "zulu,us,0.0,0.0,10000,200,90,0",
    "alpha,ru,0.0,0.26979,10000,200,270,0",
    "mike,us,0.009,0.0,10000,200,90,0",
]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def write_csv(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "tracks.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return path


def test_tracks_json_lists_pairs_of_different_parties_by_id(tmp_path: Path) -> None:
    code, out, _ = invoke("tracks", str(write_csv(tmp_path, ROWS)), "--json")
    assert 0 == code
    report = json.loads(out)
    assert [("alpha", "mike"), ("alpha", "zulu")] == [(c["a"], c["b"]) for c in report["conflicts"]]
    zulu = report["conflicts"][1]
    # 0.26979° = 29,999.3 m apart on BlueSky's 6,371 km sphere, closing at 400 m/s:
    # CPA at 75.0 s, inside 9,260 m from 51.8 s to 98.1 s.
    assert {
        "a": "alpha",
        "b": "zulu",
        "tcpa_s": 75.0,
        "dcpa_m": 0,
        "t_in_s": 51.8,
        "t_out_s": 98.1,
    } == zulu
    assert [] == report["los"]


def test_tracks_all_pairs_adds_same_party_pairs_and_their_loss_of_separation(
    tmp_path: Path,
) -> None:
    code, out, _ = invoke("tracks", str(write_csv(tmp_path, ROWS)), "--all-pairs", "--json")
    assert 0 == code
    report = json.loads(out)
    assert [("alpha", "mike"), ("alpha", "zulu"), ("mike", "zulu")] == [
        (c["a"], c["b"]) for c in report["conflicts"]
    ]
    assert [{"a": "mike", "b": "zulu"}] == report["los"]


def test_tracks_reads_a_json_list_the_same_as_csv(tmp_path: Path) -> None:
    keys = HEADER.strip().split(",")
    items = [dict(zip(keys, row.split(","), strict=True)) for row in ROWS]
    for item in items:
        for key in keys[2:]:
            item[key] = float(item[key])  # type: ignore[assignment]
    path = tmp_path / "tracks.json"
    path.write_text(json.dumps(items))
    from_json = invoke("tracks", str(path), "--json")[1]
    from_csv = invoke("tracks", str(write_csv(tmp_path, ROWS)), "--json")[1]
    assert json.loads(from_csv) == json.loads(from_json)


def test_tracks_table_shows_the_pairs_and_a_summary(tmp_path: Path) -> None:
    code, out, _ = invoke("tracks", str(write_csv(tmp_path, ROWS)), "--geometry", "geodesic")
    assert 0 == code
    assert "alpha" in out and "zulu" in out
    assert "2 conflicts, 0 in loss of separation now" in out


@pytest.mark.parametrize(
    ("header", "rows", "fragment"),
    [
        ("id,party,lat,lon,alt_m,gs_mps,trk_deg\n", ROWS, "line 1: column 'vs_mps' is missing"),
        (HEADER, [ROWS[0], "x,ru,north,0,0,0,0,0"], "line 3, field 'lat' is not a number: 'north'"),
        (HEADER, [ROWS[0], "x,ru,95,0,0,0,0,0"], "line 3, field 'lat' = 95 is outside [-90, 90]"),
        (HEADER, [ROWS[0], ROWS[0]], "line 3, field 'id' repeats 'zulu'"),
        (HEADER, [ROWS[0], "x,,0,0,0,0,0,0"], "line 3, field 'party' is empty"),
    ],
    ids=["missing-column", "not-a-number", "lat-out-of-range", "duplicate-id", "empty-party"],
)
def test_bad_tracks_file_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, header: str, rows: list[str], fragment: str
) -> None:
    path = write_csv(tmp_path, rows, header)
    code, out, err = invoke("tracks", str(path), "--json")
    assert 2 == code
    assert "" == out
    assert 1 == len(err.strip().splitlines())
    assert f"error: {path}: " in err
    assert fragment.replace("line 3, ", "line 3: ") in err


def test_missing_tracks_file_is_reported_without_a_traceback(tmp_path: Path) -> None:
    code, _, err = invoke("tracks", str(tmp_path / "nope.csv"))
    assert 2 == code
    assert "cannot read tracks" in err
    assert "Traceback" not in err


def test_incursions_json(tmp_path: Path) -> None:
    tracks = write_csv(tmp_path, ["t1,us,0.0,-0.1,9000,200,90,0", "t2,ru,0.0,-0.1,9000,200,90,0"])
    areas = tmp_path / "areas.geojson"
    ring = [[0, -0.045], [0.09, -0.045], [0.09, 0.045], [0, 0.045], [0, -0.045]]
    areas.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"id": "SQ", "party": "ru", "alt_upper_m": 12000},
                        "geometry": {"type": "Polygon", "coordinates": [ring]},
                    }
                ],
            }
        )
    )
    code, out, _ = invoke("incursions", "--tracks", str(tracks), "--areas", str(areas), "--json")
    assert 0 == code
    assert {
        "incursions": [{"track": "t1", "area": "SQ", "entry_s": 55.7, "lat": 0.0, "lon": 0.0}]
    } == json.loads(out)


def test_incursions_bad_areas_file_exits_2(tmp_path: Path) -> None:
    tracks = write_csv(tmp_path, ROWS)
    areas = tmp_path / "areas.geojson"
    no_id = {"type": "Feature", "properties": {"party": "ru"}}
    areas.write_text(json.dumps({"type": "FeatureCollection", "features": [no_id]}))
    code, _, err = invoke("incursions", "--tracks", str(tracks), "--areas", str(areas))
    assert 2 == code
    assert "feature 0: property 'id'" in err
