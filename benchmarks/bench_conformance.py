"""Conformance and incursion assessment per scheduler tick, beside one tactical detection.

Run from the repository root::

    .venv/bin/python benchmarks/bench_conformance.py [--quick] [--tracks N] [--volumes M]

What one scheduler tick of the live picture costs with N live tracks and M volumes in
force (the issue asks for 10,000 and 10,000), beside the cost of one tactical detection
(``hotline.geo.tactical.engine.detect``) on the same tracks, measured in the same run:

- conformance: every track is an own track, tied to one of M own declared volumes
  (circles of 3–10 km, squares of 6–20 km, corridors of 20–60 km by 5 km, a third each,
  in a 450 km × 400 km box around 50°N 8°E); the service's own assessment
  (:meth:`hotline.services.picture.conformance.Conformance._assess`: candidates by
  STRtree, exact distances in each track's frame, the tie bookkeeping), without the
  database writes of the alarms (one per departure, a handful in practice); in steady
  flight (each track tied, measured against its own volume) and with no ties yet (each
  track looked up among all volumes: the first tick after a restart);
- incursions: the same N tracks against A protected areas of the other party (the first
  A volumes' shapes as polygons), look-ahead 300 s (:func:`hotline.geo.incursions.detect`).
  A is M by default (``--areas``). The engine measures only the (track, area) pairs whose
  path comes within about 1 km of the area, all at once; in this dense box most of those
  are incursions (64,098 at 1,000 areas, some 640,000 at 10,000), each costing some 70 µs
  of exact geometry, so 10,000 areas take about a minute a tick here. Protected areas are
  air bases and no-fly areas, tens per party, not thousands; see ``docs/picture.md``;
- tactical: the same N tracks, half of each party, rpz 9,260 m, hpz 304.8 m, 300 s.

Times are CPU seconds of the process (``time.process_time``), best of 3, with wall
seconds beside them; ratios use CPU time. The load average is printed at the start and
at the end: compare runs only at similar loads. ``--quick`` runs 1,000 tracks, 1,000
volumes and 100 areas.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from hotline.geo import incursions  # noqa: E402
from hotline.geo.geodesy import GEOD  # noqa: E402
from hotline.geo.tactical.engine import detect as tactical  # noqa: E402
from hotline.geo.volumes import Volume  # noqa: E402
from hotline.services.picture.conformance import Conformance  # noqa: E402

NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
WINDOW = (NOW - timedelta(hours=1), NOW + timedelta(hours=2))


def volumes(m: int, seed: int = 0) -> list[Volume]:
    """``m`` own volumes in the dense box, a third each circles, squares and corridors."""
    rng = np.random.default_rng(seed)
    north, east = rng.uniform(-200e3, 200e3, m), rng.uniform(-225e3, 225e3, m)
    lat = 50.0 + np.degrees(north / 6371e3)
    lon = 8.0 + np.degrees(east / (6371e3 * np.cos(np.radians(50.0))))
    out = []
    for k in range(m):
        vid, c = f"msg-{k // 10}/V{k}", (float(lon[k]), float(lat[k]))
        if k % 3 == 0:
            r = float(rng.uniform(3e3, 10e3))
            out.append(Volume.circle(vid, "us", *c, r, 0.0, 12_000.0, *WINDOW))
            continue
        half = float(rng.uniform(3e3, 10e3)) if k % 3 == 1 else float(rng.uniform(10e3, 30e3))
        az = np.array([45.0, 135.0, 225.0, 315.0]) if k % 3 == 1 else np.array([90.0, 270.0])
        dist = np.full(len(az), half * (np.sqrt(2.0) if k % 3 == 1 else 1.0))
        x, y, _ = GEOD.fwd(np.full(len(az), c[0]), np.full(len(az), c[1]), az, dist)
        points = tuple(zip(np.asarray(x).tolist(), np.asarray(y).tolist(), strict=True))
        if k % 3 == 1:
            ring = (*points, points[0])
            out.append(Volume(vid, "us", "polygon", (ring,), 0.0, 12_000.0, *WINDOW))
        else:
            out.append(
                Volume(vid, "us", "corridor", (points,), 0.0, 12_000.0, *WINDOW, width_m=5000.0)
            )
    return out


def tracks(vols: list[Volume], n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """``n`` tracks, each within 2 km of a volume's centre, cruising."""
    rng = np.random.default_rng(seed)
    home = rng.integers(0, len(vols), n)
    centres = np.array([_centre(vols[k]) for k in home.tolist()])
    lon, lat, _ = GEOD.fwd(
        centres[:, 0], centres[:, 1], rng.uniform(0, 360, n), rng.uniform(0, 2000, n)
    )
    return {
        "lat": np.asarray(lat),
        "lon": np.asarray(lon),
        "alt": rng.uniform(3000.0, 11_000.0, n),
        "gs": rng.uniform(120.0, 260.0, n),
        "trk": rng.uniform(0.0, 360.0, n),
        "vs": np.zeros(n),
        "home": home,
    }


def _centre(v: Volume) -> tuple[float, float]:
    """A point well inside the volume: a polygon's vertex mean, a corridor's first end."""
    if v.kind == "polygon":
        lon, lat = np.mean(np.array(v.rings[0][:-1]), axis=0)
        return float(lon), float(lat)
    return v.rings[0][0]


def best(run: Callable[[], Any], times: int = 3) -> tuple[float, float, Any]:
    """(best CPU s, best wall s, last result) of ``times`` runs."""
    cpu, wall, result = [], [], None
    for _ in range(times):
        c0, w0 = time.process_time(), time.perf_counter()
        result = run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return min(cpu), min(wall), result


def conformance_tick(
    vols: list[Volume], t: dict[str, np.ndarray], *, tied: bool = True
) -> Callable[[], Any]:
    """One tick's conformance assessment, as the node's service makes it."""
    service = Conformance.__new__(Conformance)
    service.party = "us"
    service.settings = SimpleNamespace(  # type: ignore[assignment]
        conformance_margin_m=500.0, conformance_margin_alt_m=150.0, conformance_margin_s=60
    )
    service.conflicts = SimpleNamespace(declared_volumes=lambda party: vols)  # type: ignore[assignment]
    service._cache = None
    service._ties = {f"T{k}": vols[h].id for k, h in enumerate(t["home"].tolist())}
    own = [
        {"id": f"T{k}", "party": "us", "source": "feed", "lat": la, "lon": lo, "alt_m": al}
        for k, (la, lo, al) in enumerate(
            zip(t["lat"].tolist(), t["lon"].tolist(), t["alt"].tolist(), strict=True)
        )
    ]
    if not tied:  # every track looked up among every volume, as on the first tick
        return lambda: (service._ties.clear(), service._assess(own, NOW))[1]
    return lambda: service._assess(own, NOW)


def incursion_tick(vols: list[Volume], t: dict[str, np.ndarray]) -> Callable[[], Any]:
    """One tick's incursion assessment against the same shapes as the other side's areas."""
    shapes = []
    for v in vols:
        if v.kind == "polygon":
            shapes.append(shapely.Polygon(v.rings[0]))
        elif v.kind == "corridor":
            shapes.append(shapely.buffer(shapely.LineString(v.rings[0]), 0.0225))  # ~2.5 km
        else:
            shapes.append(shapely.Point(v.rings[0][0]).buffer(float(v.radius_m or 0) / 111e3))
    areas = incursions.Areas(
        ids=tuple(v.id for v in vols),
        party=tuple("ru" for _ in vols),
        geometry=np.array(shapes, dtype=object),
        alt_lower_m=np.zeros(len(vols)),
        alt_upper_m=np.full(len(vols), 12_000.0),
    )
    party = np.array(["us"] * len(t["lat"]), dtype=object)
    arrays = (t["lat"], t["lon"], t["alt"], t["gs"], t["trk"], t["vs"])
    return lambda: incursions.detect(*arrays, areas=areas, lookahead_s=300.0, party=party)


def tactical_once(t: dict[str, np.ndarray]) -> Callable[[], Any]:
    party = np.where(np.arange(len(t["lat"])) % 2 == 0, "us", "ru").astype(object)
    arrays = (t["lat"], t["lon"], t["alt"], t["gs"], t["trk"], t["vs"])
    return lambda: tactical(*arrays, rpz_m=9260.0, hpz_m=304.8, lookahead_s=300.0, party=party)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 tracks and 1,000 volumes")
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--volumes", type=int, default=10_000)
    parser.add_argument(
        "--areas", type=int, default=None, help="protected areas for incursions (default M)"
    )
    args = parser.parse_args()
    n, m = (1000, 1000) if args.quick else (args.tracks, args.volumes)
    a = min(m, 100 if args.quick else (args.areas or m))
    print(f"load average at start: {os.getloadavg()}")
    vols = volumes(m)
    t = tracks(vols, n)
    tac_cpu, tac_wall, found = best(tactical_once(t))
    conf_cpu, conf_wall, (inside, departures) = best(conformance_tick(vols, t))
    cold_cpu, cold_wall, _ = best(conformance_tick(vols, t, tied=False))
    inc_cpu, inc_wall, hits = best(incursion_tick(vols[:a], t), times=1)
    print(f"{n:,} live tracks, {m:,} volumes in force, {a:,} protected areas")
    print("(CPU ms, wall ms; best of 3, incursions 1 run)")
    print(f"  tactical detection (one)   {tac_cpu * 1e3:9.1f} {tac_wall * 1e3:9.1f}"
          f"   {len(found.pairs):,} predicted conflicts")  # fmt: skip
    print(f"  conformance per tick       {conf_cpu * 1e3:9.1f} {conf_wall * 1e3:9.1f}"
          f"   ×{conf_cpu / tac_cpu:.2f} tactical; {len(inside):,} inside, "
          f"{len(departures):,} departures")  # fmt: skip
    print(f"  conformance, no ties yet   {cold_cpu * 1e3:9.1f} {cold_wall * 1e3:9.1f}"
          f"   ×{cold_cpu / tac_cpu:.2f} tactical (the first tick after a restart)")  # fmt: skip
    print(f"  incursions per tick        {inc_cpu * 1e3:9.1f} {inc_wall * 1e3:9.1f}"
          f"   ×{inc_cpu / tac_cpu:.2f} tactical; {len(hits.track):,} incursions")  # fmt: skip
    total = conf_cpu + inc_cpu
    print(f"  conformance + incursions   {total * 1e3:9.1f}"
          f"             ×{total / tac_cpu:.2f} tactical")  # fmt: skip
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
