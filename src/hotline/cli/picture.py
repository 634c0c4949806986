"""``hotline tracks`` and ``hotline areas``: the running node's live picture.

``hotline tracks feed FILE`` reports the tracks in a CSV or JSON file (the columns of
``hotline conflicts tracks``) to the node, once or every ``--every`` seconds (a simple
feed for exercises and tests; a real feed posts to ``/api/v1/tracks`` itself).
``hotline tracks show`` prints the picture with its predicted conflicts and incursions;
``hotline areas`` lists the protected areas in force. Declare areas by sending a
``protected_areas`` notice (``hotline notice send``, or the console's compose page).

The record: ``hotline tracks history`` lists the reports recorded in a window (of a track,
or within a radius), ``hotline tracks export`` writes them to a file (JSON lines) and
``hotline tracks replay`` feeds such a file, or a recorded window, back into the node at
its pace (:mod:`hotline.services.picture.replay`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
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
    read_text_file,
)
from hotline.errors import ValidationError

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
def picture_export(
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


FromOpt = Annotated[str, typer.Option("--from", help="Start of the window, RFC 3339 UTC")]
ToOpt = Annotated[str, typer.Option("--to", help="End of the window, RFC 3339 UTC (included)")]


def _recorded(client: Any, start: str, end: str, **query: Any) -> Iterator[dict[str, Any]]:
    """Every recorded report of the window, page after page."""
    after = None
    while True:
        page = client.get("/api/v1/tracks/history", **{"from": start, "to": end}, after=after,
                          **query)  # fmt: skip
        yield from page["reports"]
        after = page["next"]
        if after is None:
            return


@tracks_app.command("history")
@friendly
def history(
    directory: DirOpt,
    start: FromOpt,
    end: ToOpt,
    track: Annotated[str | None, typer.Option(help="Only this track's reports")] = None,
    lat: Annotated[float | None, typer.Option(help="Centre's latitude (with --radius-nm)")] = None,
    lon: Annotated[float | None, typer.Option(help="Centre's longitude")] = None,
    radius_nm: Annotated[float | None, typer.Option(help="Only reports this near")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Reports recorded in a window: of one track, or within a radius of a place."""
    query = {"track": track, "lat": lat, "lon": lon, "radius_nm": radius_nm}
    with node_client(directory, url, user) as client:
        reports = list(_recorded(client, start, end, **query))
    if json_:
        print_json({"from": start, "to": end, "reports": reports})
        return
    table = Table("time", "track", "party", "lat", "lon", "alt m", "gs m/s", "trk", "source",
                  title=f"{len(reports)} reports recorded")  # fmt: skip
    for r in reports:
        table.add_row(
            r["time"], plain(r["id"]), r["party"], f"{r['lat']:.5f}", f"{r['lon']:.5f}",
            f"{r['alt_m']:.0f}", f"{r['gs_mps']:.0f}", f"{r['trk_deg']:.0f}", plain(r["source"]),
        )  # fmt: skip
    out.print(table)


@tracks_app.command("export")
@friendly
def export(
    directory: DirOpt,
    start: FromOpt,
    end: ToOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (JSON lines)")],
    track: Annotated[str | None, typer.Option(help="Only this track's reports")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Write the reports recorded in a window to a file, one per line (for replay)."""
    count = 0
    try:
        with node_client(directory, url, user) as client, output.open("w", encoding="utf-8") as f:
            for report in _recorded(client, start, end, track=track):
                f.write(json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    except OSError as exc:
        raise ValidationError(f"cannot write recording {output}: {exc.strerror}") from exc
    if json_:
        print_json({"file": str(output), "reports": count})
    else:
        out.print(f"{count} reports written to {output}")


@tracks_app.command("replay")
@friendly
def replay(
    directory: DirOpt,
    file: Annotated[
        Path | None, typer.Argument(help="A recording (hotline tracks export)", dir_okay=False)
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Or replay the node's record from")
    ] = None,
    end: Annotated[str | None, typer.Option("--to", help="… to (included)")] = None,
    speed: Annotated[float, typer.Option(help="Faster than recorded (2: twice as fast)")] = 1.0,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Feed a recording (FILE, or the record's --from/--to window) back into the node,
    at its pace; each report re-timed to when it is handed over."""
    from hotline.clock import parse_rfc3339
    from hotline.services.picture import replay as replaying

    if (file is None) == (start is None or end is None):
        raise ValidationError("give a FILE, or --from and --to", hint="not both")
    with node_client(directory, url, user) as client:
        if file is not None:
            lines = read_text_file(file, "recording").splitlines()
            recorded = replaying.read(lines, name=str(file))
        else:
            rows = [json.dumps(r) for r in _recorded(client, start or "", end or "")]
            recorded = replaying.read(rows, name="the record")
        planned = replaying.plan(recorded, speed)
        node_now = parse_rfc3339(client.get("/api/v1/tracks")["at"])
        began = time.monotonic()

        def wait_until(offset: float) -> None:
            time.sleep(max(0.0, began + offset - time.monotonic()))

        def sink(reports: list[Any]) -> dict[str, Any]:
            body = [r.model_dump(exclude_none=True) for r in reports]
            answer: dict[str, Any] = client.post("/api/v1/tracks", {"tracks": body})
            return answer

        done = replaying.run(planned, sink, wait_until, node_now)
    summary = {"reports": done["reports"], "groups": done["groups"], **done["last"]}
    if json_:
        print_json(summary)
    else:
        out.print(f"replayed {done['reports']} reports" + (
            f": {_summary(done['last'])}" if done["last"] else ""))  # fmt: skip
