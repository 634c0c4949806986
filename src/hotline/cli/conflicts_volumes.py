"""``hotline conflicts volumes``: strategic conflicts among the volumes of a GeoJSON file.

A plain function, :func:`volumes_command`, whose parameters carry their Typer metadata;
the application registers it (``conflicts_app.command("volumes")(volumes_command)``).
Bad input ends with one line on stderr naming the file, volume and field, and exit
code 2; never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hotline.errors import HotlineError
from hotline.geo.strategic.engine import SYRIA_MOU, ConflictRecord, Minima, detect_all
from hotline.geo.volumes import load_volumes

#: Exit code for input the command refuses (the convention of Click's usage errors).
EXIT_BAD_INPUT = 2


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


def volumes_command(
    file: FileArgument,
    lateral_m: LateralOption = SYRIA_MOU.lateral_m,
    vertical_m: VerticalOption = SYRIA_MOU.vertical_m,
    time_buffer_s: BufferOption = SYRIA_MOU.time_buffer_s,
    json_output: JsonOption = False,
) -> None:
    """Find volumes of different parties that conflict in time, altitude and space.

    Volumes conflict when windows overlap and bands and shapes are closer than the minima.

    A separation of exactly the minimum is separation.
    """
    try:
        minima = Minima(lateral_m=lateral_m, vertical_m=vertical_m, time_buffer_s=time_buffer_s)
    except HotlineError as exc:
        field = str(exc.context.get("field", "minima"))
        problem = exc.message.split(f"{field} ", 1)[-1]
        typer.echo(f"error: --{field.replace('_', '-')}: {problem}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        volumes = load_volumes(file)
    except (HotlineError, OSError, UnicodeDecodeError) as exc:
        typer.echo(f"error: {file}: {_reason(exc)}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    records = detect_all(volumes, minima)
    if json_output:
        typer.echo(json.dumps({"conflicts": [_rounded(r) for r in records]}))
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
    console = Console()
    if not records:
        console.print(f"No conflicts among {n_volumes} volumes.")
        return
    table = Table(title=f"{len(records)} conflicts among {n_volumes} volumes")
    for name in ("a", "b", "start", "end"):
        table.add_column(name)
    table.add_column("horizontal (m)", justify="right")
    table.add_column("vertical (m)", justify="right")
    for r in records:
        table.add_row(
            escape(r.a), escape(r.b), r.start, r.end, f"{r.horizontal_m:.1f}", f"{r.vertical_m:.1f}"
        )
    console.print(table)
