"""``hotline tracks`` and ``hotline areas``: the running node's live picture.

``hotline tracks feed FILE`` reports the tracks in a CSV or JSON file (the columns of
``hotline conflicts tracks``) to the node, once or every ``--every`` seconds (a simple
feed for exercises and tests; a real feed posts to ``/api/v1/tracks`` itself).
``hotline tracks show`` prints the picture with its predicted conflicts and incursions;
``hotline areas`` lists the protected areas in force. Declare areas by sending a
``protected_areas`` notice (``hotline notice send``, or the console's compose page).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    friendly,
    node_client,
    out,
    plain,
    print_json,
)

tracks_app = typer.Typer(help="The live track picture: feed tracks, show conflicts and incursions.")


def _reports(path: Path) -> list[dict[str, Any]]:
    from hotline.geo.tactical.io import load_tracks  # NumPy: only when tracks are read

    tracks = load_tracks(path)
    return [
        {
            "id": tracks.ids[k],
            "party": tracks.party[k],
            "lat": float(tracks.lat[k]),
            "lon": float(tracks.lon[k]),
            "alt_m": float(tracks.alt_m[k]),
            "gs_mps": float(tracks.gs_mps[k]),
            "trk_deg": float(tracks.trk_deg[k]),
            "vs_mps": float(tracks.vs_mps[k]),
        }
        for k in range(len(tracks))
    ]


def _summary(data: dict[str, Any]) -> str:
    return (
        f"{data['tracks']} tracks, {data['conflicts']} predicted conflicts, "
        f"{data['los']} in loss of separation, {data['incursions']} incursions"
    )


@tracks_app.command("feed")
@friendly
def feed(
    file: Annotated[Path, typer.Argument(help="Tracks, CSV or JSON.", dir_okay=False)],
    directory: DirOpt,
    every: Annotated[
        float, typer.Option(help="Report again every this many seconds (0: once)")
    ] = 0.0,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Report the tracks in FILE to the node (each report stamped now)."""
    reports = _reports(file)
    with node_client(directory, url, user) as client:
        while True:
            result = client.post("/api/v1/tracks", {"tracks": reports})
            if json_:
                print_json(result)
            else:
                out.print(f"reported {result['taken']}: {_summary(result)}")
            if every <= 0:
                return
            time.sleep(every)


@tracks_app.command("show")
@friendly
def show(
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """The picture now: tracks, predicted conflicts between parties, incursions."""
    with node_client(directory, url, user) as client:
        data = client.get("/api/v1/tracks")
    if json_:
        print_json(data)
        return
    out.print(_summary(data["summary"]))
    if data["conflicts"]:
        table = Table("a", "b", "tcpa s", "dcpa m", "in s", "out s", title="Predicted conflicts")
        for c in data["conflicts"]:
            table.add_row(
                plain(c["a"]), plain(c["b"]), f"{c['tcpa_s']:.0f}", f"{c['dcpa_m']:.0f}",
                f"{c['t_in_s']:.0f}", f"{c['t_out_s']:.0f}",
            )  # fmt: skip
        out.print(table)
    if data["incursions"]:
        table = Table("track", "area", "of", "entry", "lat", "lon", title="Incursions")
        for i in data["incursions"]:
            entry = "INSIDE NOW" if i["inside"] else f"in {i['entry_s']:.0f} s"
            table.add_row(
                plain(i["track"]), plain(f"{i['area']} {i['area_name']}"), i["area_party"], entry,
                f"{i['lat']:.4f}", f"{i['lon']:.4f}",
            )  # fmt: skip
        out.print(table)


@friendly
def areas_command(
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """The protected areas in force, own and peers'."""
    with node_client(directory, url, user) as client:
        data = client.get("/api/v1/areas")
    if json_:
        print_json(data)
        return
    table = Table("party", "id", "name", "altitudes", "declared", "message")
    for f in data["features"]:
        p = f["properties"]
        band = f"{p['alt_lower_m']}–{p['alt_upper_m']} m {p['datum']}" if "datum" in p else "all"
        table.add_row(*map(plain, (p["party"], p["id"], p["name"], band, p["declared_at"],
                                  p["message_id"])))  # fmt: skip
    out.print(table)


picture_app = typer.Typer(help="The picture out: KML and GeoJSON exports for a time window.")


@picture_app.command("export")
@friendly
def export(
    directory: DirOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write")],
    format_: Annotated[str, typer.Option("--format", help="kml | geojson")] = "geojson",
    start: Annotated[
        str | None, typer.Option("--from", help="Window start, RFC 3339 UTC (default: all)")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Window end, RFC 3339 UTC (default: all)")
    ] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Volumes, protected areas, conflicts and track histories of the running node's
    picture in a time window, as KML or GeoJSON."""
    from urllib.parse import urlencode

    from hotline.errors import ValidationError

    if format_ not in ("kml", "geojson"):
        raise ValidationError(f"unknown format {format_!r}", hint="kml or geojson")
    query = urlencode({k: v for k, v in (("from", start), ("to", end)) if v})
    with node_client(directory, url, user) as client:
        body = client.text(f"/api/v1/export.{format_}" + (f"?{query}" if query else ""))
    output.write_text(body, encoding="utf-8")
    out.print(plain(f"Picture written to {output} ({format_}, {len(body)} characters)"))
