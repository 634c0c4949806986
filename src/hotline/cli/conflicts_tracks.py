"""``hotline conflicts tracks`` and ``hotline conflicts incursions``: the two commands.

Plain functions with Typer parameters; the ``conflicts`` command group registers them
(``app.command("tracks")(tracks_command)``). Both print a Rich table, or JSON only with
``--json``. A bad input file is one line on stderr naming the file, row and field, and
exit code 2; never a traceback.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from hotline.errors import HotlineError
from hotline.geo import incursions as incursions_mod
from hotline.geo.tactical import engine as tactical

__all__ = ["incursions_command", "tracks_command"]

BAD_INPUT = 2  # exit code: the input files are at fault


class GeometryChoice(enum.StrEnum):
    flat = "flat"
    geodesic = "geodesic"


TRACKS_HELP = (
    "Tracks: a CSV with columns id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps "
    "(degrees, metres, m/s, degrees true) or a JSON list of such objects."
)


def tracks_command(
    file: Annotated[Path, typer.Argument(help=TRACKS_HELP, show_default=False)],
    rpz_m: Annotated[
        float, typer.Option("--rpz-m", help="Horizontal protection radius, m (5 NM).")
    ] = 9260.0,
    hpz_m: Annotated[
        float, typer.Option("--hpz-m", help="Vertical half-height of the protected zone, m.")
    ] = 304.8,
    lookahead_s: Annotated[float, typer.Option("--lookahead-s", help="Look-ahead, s.")] = 300.0,
    all_pairs: Annotated[
        bool, typer.Option("--all-pairs", help="Also pairs of the same party.")
    ] = False,
    geometry: Annotated[
        GeometryChoice,
        typer.Option(
            "--geometry",
            help="flat: BlueSky's flat earth, pair for pair; geodesic: exact on WGS84.",
        ),
    ] = GeometryChoice.flat,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Predicted losses of separation between tracks (BlueSky's state-based semantics)."""
    try:
        tracks = tactical.load_tracks(file)
        result = tactical.detect(
            tracks.lat,
            tracks.lon,
            tracks.alt_m,
            tracks.gs_mps,
            tracks.trk_deg,
            tracks.vs_mps,
            rpz_m=rpz_m,
            hpz_m=hpz_m,
            lookahead_s=lookahead_s,
            party=None if all_pairs else list(tracks.party),
            geometry=geometry.value,
        )
    except HotlineError as exc:
        _fail(exc)
    report = conflicts_report(tracks.ids, result)
    if json_out:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_conflicts(report)


def incursions_command(
    tracks_file: Annotated[Path, typer.Option("--tracks", help=TRACKS_HELP, show_default=False)],
    areas_file: Annotated[
        Path,
        typer.Option(
            "--areas",
            help="Protected areas: a GeoJSON FeatureCollection of Polygons or MultiPolygons "
            "with properties id, party and optional alt_lower_m, alt_upper_m.",
            show_default=False,
        ),
    ],
    lookahead_s: Annotated[float, typer.Option("--lookahead-s", help="Look-ahead, s.")] = 300.0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Tracks predicted to enter, or already inside, another party's protected area."""
    try:
        tracks = tactical.load_tracks(tracks_file)
        areas = incursions_mod.load_areas(areas_file)
        found = incursions_mod.incursions(tracks, areas, lookahead_s=lookahead_s)
    except HotlineError as exc:
        _fail(exc)
    report = {
        "incursions": [
            {
                "track": i.track,
                "area": i.area,
                "entry_s": round(i.entry_s, 1),
                "lat": round(i.lat, 5),
                "lon": round(i.lon, 5),
            }
            for i in found
        ]
    }
    if json_out:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print_incursions(report)


def conflicts_report(ids: tuple[str, ...], result: tactical.TacticalResult) -> dict[str, Any]:
    """The JSON shape: pairs by id with ``a < b``, sorted; times to 0.1 s, distances to 1 m."""
    conflicts = []
    for (i, j), tcpa, dcpa, tin, tout in zip(
        result.pairs.tolist(),
        result.tcpa_s.tolist(),
        result.dcpa_m.tolist(),
        result.tin_s.tolist(),
        result.tout_s.tolist(),
        strict=True,
    ):
        a, b = sorted((ids[i], ids[j]))
        conflicts.append(
            {
                "a": a,
                "b": b,
                "tcpa_s": round(tcpa, 1),
                "dcpa_m": round(dcpa),
                "t_in_s": round(tin, 1),
                "t_out_s": round(tout, 1),
            }
        )
    los = [
        dict(zip(("a", "b"), sorted((ids[i], ids[j])), strict=True)) for i, j in result.los.tolist()
    ]
    conflicts.sort(key=lambda c: (c["a"], c["b"]))
    los.sort(key=lambda c: (c["a"], c["b"]))
    return {"conflicts": conflicts, "los": los}


def _fail(exc: HotlineError) -> NoReturn:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {exc}", markup=False)
    raise typer.Exit(BAD_INPUT) from None


def _print_conflicts(report: dict[str, Any]) -> None:
    console = Console(highlight=False)
    in_los = {(p["a"], p["b"]) for p in report["los"]}
    table = Table("a", "b", "t_cpa s", "d_cpa m", "t_in s", "t_out s", "LoS now", title="Conflicts")
    for c in report["conflicts"]:
        table.add_row(
            c["a"],
            c["b"],
            f"{c['tcpa_s']:.1f}",
            f"{c['dcpa_m']}",
            f"{c['t_in_s']:.1f}",
            f"{c['t_out_s']:.1f}",
            "yes" if (c["a"], c["b"]) in in_los else "",
        )
    console.print(table)
    console.print(
        f"{len(report['conflicts'])} conflicts, {len(report['los'])} in loss of separation now"
    )


def _print_incursions(report: dict[str, Any]) -> None:
    console = Console(highlight=False)
    table = Table("track", "area", "entry s", "lat", "lon", title="Incursions")
    for i in report["incursions"]:
        table.add_row(
            i["track"], i["area"], f"{i['entry_s']:.1f}", f"{i['lat']:.5f}", f"{i['lon']:.5f}"
        )
    console.print(table)
    console.print(f"{len(report['incursions'])} incursions")
