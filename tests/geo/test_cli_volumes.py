"""``hotline conflicts volumes`` (``hotline.cli.conflicts.volumes_command``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from pyproj import Geod
from typer.testing import CliRunner, Result

from hotline.cli.conflicts import volumes_command

GEOD = Geod(ellps="WGS84")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("volumes")(volumes_command)

    @app.callback()
    def conflicts() -> None:  # a group, as in `hotline conflicts volumes`
        """Conflicts."""

    return app


def run(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["volumes", *args])


def circle(
    vid: str, party: str, lon: float, lat: float, radius: float, **props: Any
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [f"{lon:.7f}", f"{lat:.7f}"]},
        "properties": {
            "id": vid,
            "party": party,
            "radius_m": radius,
            "alt_lower_m": 0,
            "alt_upper_m": 3000,
            "start": "2025-03-01T10:00:00Z",
            "end": "2025-03-01T12:00:00Z",
            **props,
        },
    }


@pytest.fixture
def geojson(tmp_path: Path) -> Any:
    def write(*features: dict[str, Any]) -> str:
        path = tmp_path / "volumes.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
        return str(path)

    return write


def _pair(gap_m: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two 1 km circles of different parties, ``gap_m`` apart rim to rim."""
    lon, lat, _ = GEOD.fwd(36.0, 35.0, 90.0, 2000.0 + gap_m)
    first = circle("A1", "blue", 36.0, 35.0, 1000.0)
    return first, circle("B2", "red", float(lon), float(lat), 1000.0)


def test_json_output_has_exactly_the_documented_fields_rounded_to_a_decimetre(
    geojson: Any,
) -> None:
    result = run(geojson(*_pair(1234.5678)), "--json")

    expected = {
        "conflicts": [
            {
                "a": "A1",
                "b": "B2",
                "start": "2025-03-01T10:00:00Z",
                "end": "2025-03-01T12:00:00Z",
                "horizontal_m": 1234.6,
                "vertical_m": 0.0,
            }
        ]
    }
    assert (0, expected) == (result.exit_code, json.loads(result.stdout))


def test_table_output_lists_the_conflict(geojson: Any) -> None:
    result = run(geojson(*_pair(100.0)))

    assert 0 == result.exit_code
    assert "1 conflicts among 2 volumes" in result.stdout
    assert "A1" in result.stdout and "B2" in result.stdout


def test_no_conflicts_says_so(geojson: Any) -> None:
    result = run(geojson(*_pair(10_000.0)))

    assert (0, "No conflicts among 2 volumes.\n") == (result.exit_code, result.stdout)


def test_lateral_option_changes_the_minimum(geojson: Any) -> None:
    path = geojson(*_pair(7000.0))

    default = json.loads(run(path, "--json").stdout)["conflicts"]
    wider = json.loads(run(path, "--json", "--lateral-m", "7000.1").stdout)["conflicts"]

    assert ([], [7000.0]) == (default, [c["horizontal_m"] for c in wider])


def test_vertical_and_time_buffer_options_are_applied(geojson: Any) -> None:
    a, b = _pair(100.0)
    b["properties"].update(
        alt_lower_m=4000, alt_upper_m=5000, start="2025-03-01T12:01:00Z", end="2025-03-01T13:00:00Z"
    )
    path = geojson(a, b)

    none = json.loads(run(path, "--json", "--vertical-m", "1000.1").stdout)["conflicts"]
    both = json.loads(
        run(path, "--json", "--vertical-m", "1000.1", "--time-buffer-s", "31").stdout
    )["conflicts"]

    assert [] == none
    assert [("2025-03-01T12:00:29Z", "2025-03-01T12:00:31Z", 1000.0)] == [
        (c["start"], c["end"], c["vertical_m"]) for c in both
    ]


def test_missing_file_is_one_line_on_stderr_and_exit_2() -> None:
    result = run("/nonexistent/volumes.geojson")

    assert (2, "", "error: /nonexistent/volumes.geojson: No such file or directory\n") == (
        result.exit_code,
        result.stdout,
        result.stderr,
    )


def test_invalid_json_is_reported_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text("{nope")

    result = run(str(path))

    assert 2 == result.exit_code
    assert result.stderr.startswith(f"error: {path}: not valid JSON")
    assert 1 == len(result.stderr.splitlines()) and "Traceback" not in result.stderr


def test_invalid_volume_names_file_volume_and_field(geojson: Any) -> None:
    a, b = _pair(100.0)
    b["properties"]["alt_upper_m"] = -1
    path = geojson(a, b)

    result = run(path, "--json")

    assert (2, "") == (result.exit_code, result.stdout)
    assert result.stderr.startswith(f"error: {path}: volume 'B2': properties.alt_upper_m: ")
    assert 1 == len(result.stderr.splitlines())


def test_non_positive_minimum_is_refused_naming_the_option(geojson: Any) -> None:
    result = run(geojson(*_pair(100.0)), "--lateral-m", "0")

    assert (2, "error: --lateral-m: must be a positive number of metres, got 0.0\n") == (
        result.exit_code,
        result.stderr,
    )
