"""``hotline conflicts``: the deconfliction engines on files, offline.

``volumes`` (strategic: volumes of a GeoJSON file), ``tracks`` (tactical: predicted
losses of separation between tracks) and ``incursions`` (tracks entering another party's
protected area). The commands are plain functions whose parameters carry their Typer
metadata, registered on :data:`conflicts_app`; tests call them through their own app.

Each command reads its input files, runs one engine and prints a Rich table, or JSON only
with ``--json``. A bad file is one line on stderr naming the file, feature or row and the
field, with exit status 2; never a traceback.

The engines (NumPy, SciPy, Shapely, pyproj) are imported in the command bodies only, so
that ``hotline --help`` and every other command start without them.
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.table import Table

from hotline.cli.common import (
    UrlOpt,
    UserOpt,
    echo,
    err,
    friendly,
    json_text,
    node_client,
    out,
    plain,
    print_json,
)
from hotline.errors import HotlineError

if TYPE_CHECKING:
    from hotline.geo.strategic.engine import ConflictRecord
    from hotline.geo.tactical.engine import TacticalResult

__all__ = [
    "conflicts_app",
    "incursions_command",
    "node_conflicts_command",
    "tracks_command",
    "volumes_command",
]

#: Exit code for input the command refuses (the convention of Click's usage errors).
BAD_INPUT = 2

#: The default minima of ``hotline conflicts volumes``: ``geo.strategic.engine.SYRIA_MOU``
#: (3 NM lateral, 3,000 ft vertical, no time buffer), written out so that the help needs
#: no engine; a test checks they are the same.
DEFAULT_LATERAL_M = 5556.0
DEFAULT_VERTICAL_M = 914.4
DEFAULT_TIME_BUFFER_S = 0.0

conflicts_app = typer.Typer(
    help="The node's current conflicts between declared volumes (no subcommand), or detect "
    "conflicts in files offline: volumes (strategic), tracks (tactical), incursions.",
    invoke_without_command=True,
)


# -- the node's conflicts ------------------------------------------------------------------


NodeDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--dir", envvar="HOTLINE_DIR", help="The running node's folder.", show_default=False
    ),
]


@conflicts_app.callback()
def node_conflicts_command(
    ctx: typer.Context,
    directory: NodeDirOpt = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Also conflicts whose shared time has ended.")
    ] = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """List the running node's current conflicts between declared volumes (own and the
    other side's), newest first; the subcommands analyse files offline instead."""
    if ctx.invoked_subcommand is not None:
        return
    if directory is None:
        echo(ctx.get_help())
        err.print("error: give --dir of a running node (or HOTLINE_DIR), or a subcommand")
        raise typer.Exit(BAD_INPUT)
    _list_node_conflicts(directory, json_output, everything, user, url)


@friendly
def _list_node_conflicts(
    directory: Path, json_output: bool, everything: bool, user: str | None, url: str | None
) -> None:
    from hotline.render.conflicts import conflict_line

    with node_client(directory, url, user) as client:
        found = client.get("/api/v1/conflicts", current=None if everything else "true")
    if json_output:
        print_json({"conflicts": found})
        return
    what = "conflicts" if everything else "current conflicts"
    out.print(plain(f"{len(found)} {what} between declared volumes"))
    for conflict in found:
        out.print(
            plain(f"#{conflict['id']} (found {conflict['detected_at']}) {conflict_line(conflict)}"),
            soft_wrap=True,
        )


# -- volumes (strategic) --------------------------------------------------------------------

FileArgument = Annotated[
    Path,
    typer.Argument(
        help="GeoJSON FeatureCollection of volumes (Polygon, Point with radius_m, "
        "LineString with width_m).",
        show_default=False,
    ),
]
LateralOption = Annotated[
    float, typer.Option("--lateral-m", help="Lateral minimum, metres (3 NM).")
]
VerticalOption = Annotated[
    float, typer.Option("--vertical-m", help="Vertical minimum, metres (3,000 ft).")
]
BufferOption = Annotated[
    float, typer.Option("--time-buffer-s", help="Seconds added before and after each window.")
]
JsonOption = Annotated[bool, typer.Option("--json", help='Print {"conflicts": [...]} as JSON.')]


@conflicts_app.command("volumes")
def volumes_command(
    file: FileArgument,
    lateral_m: LateralOption = DEFAULT_LATERAL_M,
    vertical_m: VerticalOption = DEFAULT_VERTICAL_M,
    time_buffer_s: BufferOption = DEFAULT_TIME_BUFFER_S,
    json_output: JsonOption = False,
) -> None:
    """Find volumes of different parties that conflict in time, altitude and space.

    Volumes conflict when windows overlap and bands and shapes are closer than the minima.

    A separation of exactly the minimum is separation.
    """
    from hotline.geo.strategic.engine import Minima, detect_all
    from hotline.geo.volumes import load_volumes

    try:
        minima = Minima(lateral_m=lateral_m, vertical_m=vertical_m, time_buffer_s=time_buffer_s)
    except HotlineError as exc:
        field = str(exc.context.get("field", "minima"))
        problem = exc.message.split(f"{field} ", 1)[-1]
        echo(f"error: --{field.replace('_', '-')}: {problem}", err=True)
        raise typer.Exit(BAD_INPUT) from None
    try:
        volumes = load_volumes(file)
    except (HotlineError, OSError, UnicodeDecodeError) as exc:
        echo(f"error: {file}: {_reason(exc)}", err=True)
        raise typer.Exit(BAD_INPUT) from None
    records = detect_all(volumes, minima)
    if json_output:
        echo(json.dumps({"conflicts": [_rounded(r) for r in records]}))  # ASCII only
    else:
        _print_table(records, len(volumes))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc).replace("\n", " ")


def _rounded(record: ConflictRecord) -> dict[str, str | float]:
    """A record for JSON output, distances rounded to 0.1 m."""
    out = record.to_dict()
    out["horizontal_m"] = round(record.horizontal_m, 1)
    out["vertical_m"] = round(record.vertical_m, 1)
    return out


def _print_table(records: list[ConflictRecord], n_volumes: int) -> None:
    console = out
    if not records:
        console.print(f"No conflicts among {n_volumes} volumes.")
        return
    table = Table(title=f"{len(records)} conflicts among {n_volumes} volumes")
    for name in ("a", "b", "start", "end"):
        table.add_column(name)
    table.add_column("horizontal (m)", justify="right")
    table.add_column("vertical (m)", justify="right")
    for r in records:
        table.add_row(r.a, r.b, r.start, r.end, f"{r.horizontal_m:.1f}", f"{r.vertical_m:.1f}")
    console.print(table)


# -- tracks and incursions (tactical) ------------------------------------------------------


class GeometryChoice(enum.StrEnum):
    flat = "flat"
    geodesic = "geodesic"


TRACKS_HELP = (
    "Tracks: a CSV with columns id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps "
    "(degrees, metres, m/s, degrees true) or a JSON list of such objects."
)


@conflicts_app.command("tracks")
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
    from hotline.geo.tactical import engine as tactical

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
        echo(json_text(report, indent=None))
    else:
        _print_conflicts(report)


@conflicts_app.command("incursions")
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
    from hotline.geo import incursions as incursions_mod
    from hotline.geo.tactical import engine as tactical

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
        echo(json_text(report, indent=None))
    else:
        _print_incursions(report)


def conflicts_report(ids: tuple[str, ...], result: TacticalResult) -> dict[str, Any]:
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
    err.print(f"error: {exc}", soft_wrap=True)
    raise typer.Exit(BAD_INPUT) from None


def _print_conflicts(report: dict[str, Any]) -> None:
    console = out
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
    console = out
    table = Table("track", "area", "entry s", "lat", "lon", title="Incursions")
    for i in report["incursions"]:
        table.add_row(
            i["track"], i["area"], f"{i['entry_s']:.1f}", f"{i['lat']:.5f}", f"{i['lon']:.5f}"
        )
    console.print(table)
    console.print(f"{len(report['incursions'])} incursions")
