"""Benchmark of strategic (volume-vs-volume) detection.

Run from the repository root::

    .venv/bin/python benchmarks/bench_strategic.py [--quick]

Prints, in one run (wall time, and CPU time of the whole process, all threads):

1. the anchor: a brute-force pairwise check (a Python loop over every pair, distances
   with shapely in a pyproj azimuthal-equidistant projection centred on the pair, the
   same method as the tests' reference) on 300 volumes in a 2° x 2° box over one day,
   next to ``detect_all`` on the same set; both must find the same pairs;
2. ``detect_all`` on 100,000 volumes over one week (the dense case) and over four weeks
   (target: under 2 s of wall time), the best of ``--runs`` runs (3) with the default
   threads, then the best of as many in one thread (its CPU time is what the work costs
   alone), with the brute force extrapolated to that size as a ratio;
3. building a ``VolumeIndex`` of 1,000,000 volumes, then p50/p99 of 1,000 single-volume
   ``check`` calls against it (target p99: under 5 ms);
4. peak memory (resident set high-water mark of the process).

The synthetic traffic: four parties declaring circles (40 %, radius 1–15 km), polygons
(40 %, 5–8 vertices, 3–30 km across) and corridors (20 %, 2–4 legs of 20–100 km, 2–10 km
wide), altitude bands 300–6,000 m thick between 0 and 18,000 m, windows of 30 min to
6 h.  The 100,000 volumes fill a box from the Eastern Mediterranean to the Gulf (25–45° N,
25–60° E, about 3,200 x 2,200 km); the million fill the same box over ten weeks, the
density in space and time of the one-week case.  ``--quick`` divides every size by 10
(and the anchor by 3).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import combinations, pairwise
from typing import Any

import numpy as np
import pyproj
import shapely

from hotline.geo.geodesy import GEOD
from hotline.geo.strategic.engine import SYRIA_MOU, VolumeIndex, detect_all
from hotline.geo.volumes import CIRCLE, CORRIDOR, POLYGON, Volume, VolumeSet

WEEK_S = 7 * 86400.0
EPOCH_S = datetime(2025, 3, 1, tzinfo=UTC).timestamp()


BOX = (25.0, 60.0, 25.0, 45.0)  # west, east, south, north: degrees
SMALL_BOX = (35.0, 37.0, 34.0, 36.0)  # the anchor's: dense enough to have conflicts


def synthetic(
    n: int, weeks: float, seed: int, box: tuple[float, float, float, float] = BOX
) -> tuple[VolumeSet, dict[str, Any]]:
    """``n`` random volumes over ``box`` and ``weeks`` weeks, built vectorised."""
    rng = np.random.default_rng(seed)
    kinds = rng.choice([CIRCLE, POLYGON, CORRIDOR], size=n, p=[0.4, 0.4, 0.2])
    n_vertices = np.select(
        [kinds == CIRCLE, kinds == POLYGON], [1, rng.integers(5, 9, n) + 1], rng.integers(3, 6, n)
    )
    owner = np.repeat(np.arange(n), n_vertices)
    step = np.arange(owner.size) - np.repeat(np.cumsum(n_vertices) - n_vertices, n_vertices)
    west, east, south, north = box
    centre_lon = rng.uniform(west, east, n)
    sin_lat = rng.uniform(np.sin(np.radians(south)), np.sin(np.radians(north)), n)
    centre_lat = np.degrees(np.arcsin(sin_lat))  # uniform over the area
    lon, lat = _shapes(rng, kinds, owner, step, n_vertices, centre_lon, centre_lat)
    size = np.where(kinds == CIRCLE, rng.uniform(1000, 15000, n), rng.uniform(2000, 10000, n))
    low = rng.integers(0, 40, n) * 300.0
    start = EPOCH_S + np.round(rng.uniform(0, weeks * WEEK_S, n) / 60) * 60
    columns = dict(
        ids=[f"V{k:07d}" for k in range(n)],
        parties=np.array(["blue", "red", "green", "amber"])[rng.integers(0, 4, n)].tolist(),
        kinds=kinds,
        size_m=size,
        lon=lon,
        lat=lat,
        ring_offsets=np.concatenate([[0], np.cumsum(n_vertices)]),
        volume_rings=np.arange(n + 1),
        alt_lower_m=low,
        alt_upper_m=low + rng.integers(1, 21, n) * 300.0,
        start_s=start,
        end_s=start + np.round(rng.uniform(1800, 6 * 3600, n) / 60) * 60,
    )
    return VolumeSet.from_arrays(**columns), columns


def _shapes(
    rng: np.random.Generator,
    kinds: np.ndarray,
    owner: np.ndarray,
    step: np.ndarray,
    n_vertices: np.ndarray,
    centre_lon: np.ndarray,
    centre_lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices: polygons as stars around the centre, corridors as random walks."""
    kind = kinds[owner]
    lon, lat = centre_lon[owner].copy(), centre_lat[owner].copy()
    poly = np.flatnonzero(kind == POLYGON)
    corners = n_vertices[owner[poly]] - 1
    azimuth = (step[poly] % corners) * 360.0 / corners + rng.uniform(0, 20, n_vertices.size)[
        owner[poly]
    ]
    radius = rng.uniform(1500, 15000, n_vertices.size)[owner[poly]] * rng.uniform(0.6, 1, poly.size)
    closing = step[poly] == corners
    radius[closing] = radius[np.flatnonzero(closing) - corners[closing]]
    azimuth[closing] = azimuth[np.flatnonzero(closing) - corners[closing]]
    lon[poly], lat[poly], _ = GEOD.fwd(lon[poly], lat[poly], azimuth, radius)
    walk = np.flatnonzero(kind == CORRIDOR)
    heading = rng.uniform(0, 360, n_vertices.size)[owner[walk]] + rng.uniform(-40, 40, walk.size)
    leg = np.where(step[walk] == 0, 0.0, rng.uniform(20000, 100000, walk.size))
    for k in range(1, int(step[walk].max(initial=0)) + 1):  # one leg per step, all at once
        at = walk[step[walk] == k]
        here = step[walk] == k
        lon[at], lat[at], _ = GEOD.fwd(lon[at - 1], lat[at - 1], heading[here], leg[here])
    return lon, lat


def brute_force(columns: dict[str, Any]) -> set[tuple[str, str]]:
    """Pairs in conflict by a plain loop over all pairs (the anchor)."""
    volumes = _as_volumes(columns)
    found = set()
    for va, vb in combinations(volumes, 2):
        if va.party == vb.party or not (max(va.start, vb.start) < min(va.end, vb.end)):
            continue
        gap = max(va.alt_lower_m, vb.alt_lower_m) - min(va.alt_upper_m, vb.alt_upper_m)
        if max(gap, 0.0) >= SYRIA_MOU.vertical_m:
            continue
        if reference_horizontal_m(va, vb) < SYRIA_MOU.lateral_m:
            found.add((min(va.id, vb.id), max(va.id, vb.id)))
    return found


def _as_volumes(c: dict[str, Any]) -> list[Volume]:
    out = []
    for i, vid in enumerate(c["ids"]):
        rings = tuple(
            tuple(zip(c["lon"][a:b].tolist(), c["lat"][a:b].tolist(), strict=True))
            for a, b in [(c["ring_offsets"][i], c["ring_offsets"][i + 1])]
        )
        kind = {CIRCLE: "circle", POLYGON: "polygon", CORRIDOR: "corridor"}[int(c["kinds"][i])]
        size = float(c["size_m"][i])
        t0 = datetime.fromtimestamp(c["start_s"][i], UTC)
        t1 = datetime.fromtimestamp(c["end_s"][i], UTC)
        out.append(
            Volume(
                vid,
                c["parties"][i],
                kind,
                rings,
                float(c["alt_lower_m"][i]),  # type: ignore[arg-type]
                float(c["alt_upper_m"][i]),
                t0,
                t1,
                radius_m=size if kind == "circle" else None,
                width_m=size if kind == "corridor" else None,
            )
        )
    return out


def reference_horizontal_m(va: Volume, vb: Volume) -> float:
    """Distance between two volumes in a pyproj AEQD plane centred between them."""
    lon1, lat1 = va.rings[0][0]
    lon2, lat2 = vb.rings[0][0]
    az, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    clon, clat, _ = GEOD.fwd(lon1, lat1, az, d / 2)
    for _ in range(2):
        tr = pyproj.Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={clat} +lon_0={clon} +ellps=WGS84"
        )
        line = shapely.shortest_line(_planar(va, tr), _planar(vb, tr))
        (xa, ya), (xb, yb) = line.coords
        lons, lats = tr.transform(
            [xa, xb, (xa + xb) / 2], [ya, yb, (ya + yb) / 2], direction="INVERSE"
        )
        clon, clat = lons[2], lats[2]
    core = 0.0 if line.length == 0 else GEOD.inv(lons[0], lats[0], lons[1], lats[1])[2]
    return max(0.0, core - va.buffer_m - vb.buffer_m)


def _planar(v: Volume, tr: pyproj.Transformer) -> Any:
    rings = []
    for ring in v.rings:
        points = [ring[0]]
        for (lo1, la1), (lo2, la2) in pairwise(ring):
            n = int(GEOD.inv(lo1, la1, lo2, la2)[2] // 500)
            points += GEOD.npts(lo1, la1, lo2, la2, n) if n else []
            points.append((lo2, la2))
        rings.append(np.array(tr.transform(*np.array(points).T)).T)
    if v.kind == "circle":
        return shapely.Point(rings[0][0])
    return (
        shapely.LineString(rings[0])
        if v.kind == "corridor"
        else shapely.Polygon(rings[0], rings[1:])
    )


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU (all threads of the process) seconds taken by ``fn()``, and its result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


Row = tuple[str, str, str]


def anchor(n: int) -> tuple[float, list[Row]]:
    """Brute force and engine on the same small set; returns seconds per brute-force pair."""
    _, columns = synthetic(n, weeks=1 / 7, seed=1, box=SMALL_BOX)
    t_brute, _, expected = timed(lambda: brute_force(columns))
    volumes = VolumeSet.from_arrays(**columns)
    t_engine, _, records = timed(lambda: detect_all(volumes))
    got = {(r.a, r.b) for r in records}
    pairs = n * (n - 1) // 2
    return t_brute / pairs, [
        (f"brute force, {n} volumes ({pairs} pairs)", f"{t_brute:.2f} s", "1 (anchor)"),
        (
            f"detect_all, the same {n} volumes",
            f"{t_engine * 1e3:.1f} ms",
            f"{t_brute / t_engine:.0f}x faster; same {len(got)} pairs: {got == expected}",
        ),
    ]


def all_pairs(n: int, weeks: float, per_pair_s: float, runs: int) -> list[Row]:
    """``detect_all`` over ``n`` volumes (target: 100,000 in under 2 s).

    Best of ``runs`` with the default threads (the wall time the target is about), then
    best of ``runs`` in one thread (what the work costs in CPU time alone).
    """
    t_build, _, (volumes, _) = timed(lambda: synthetic(n, weeks=weeks, seed=2))
    load = os.getloadavg()[0]
    threaded = [timed(lambda: detect_all(volumes)) for _ in range(runs)]
    t_all, cpu, records = min(threaded, key=lambda t: t[0])
    single = [timed(lambda: detect_all(volumes, workers=1)) for _ in range(runs)]
    t_one, cpu_one, records_one = min(single, key=lambda t: t[0])
    brute = per_pair_s * n * (n - 1) / 2
    span = f"{weeks:g} week" + ("s" if weeks != 1 else "")
    walls = ", ".join(f"{t[0]:.2f}" for t in threaded)
    met = ("met" if t_all < 2.0 else "NOT met") if n == 100_000 else "for 100,000 only"
    return [
        (f"generate + VolumeSet.from_arrays, {n} over {span}", f"{t_build:.2f} s", ""),
        (
            f"detect_all, {n} volumes over {span}",
            f"{t_all:.3f} s",
            f"CPU {cpu:.3f} s (best of {runs}: {walls} s; load {load:.1f});"
            f" {len(records)} conflicts; brute force would take"
            f" {brute / 3600:.0f} h ({brute / t_all:.0e}x); target < 2 s: {met}",
        ),
        (
            "detect_all, the same, one thread",
            f"{t_one:.3f} s",
            f"CPU {cpu_one:.3f} s; same records as with threads: {records_one == records}",
        ),
    ]


def index_checks(n: int, probes: int = 1000) -> list[Row]:
    """Build a ``VolumeIndex`` of ``n`` volumes, then time single-volume checks."""
    weeks = 10 * n / 1_000_000
    t_gen, _, (stored, _) = timed(lambda: synthetic(n, weeks=weeks, seed=3))
    t_index, _, index = timed(lambda: VolumeIndex(stored))
    _, columns = synthetic(probes, weeks=weeks, seed=4)
    columns["ids"] = [f"P{k:05d}" for k in range(probes)]
    candidates = VolumeSet.from_arrays(**columns)
    walls, cpus, hits = [], [], 0
    for k in range(probes):
        one = candidates.take([k])
        wall, cpu, found = timed(lambda one=one: index.check(one))
        walls.append(wall)
        cpus.append(cpu)
        hits += len(found)
    p50, p99 = np.percentile(walls, [50, 99]) * 1e3
    c50, c99 = np.percentile(cpus, [50, 99]) * 1e3
    return [
        (
            f"generate + VolumeSet.from_arrays, {n}",
            f"{t_gen:.2f} s",
            f"holds {len(stored.cap_m)} pieces",
        ),
        (f"VolumeIndex build, {n} volumes", f"{t_index:.2f} s", f"RSS now {rss_mb():.0f} MB"),
        (
            f"check one volume against {n}, p50",
            f"{p50:.2f} ms",
            f"CPU {c50:.2f} ms; {hits} conflicts over {probes} checks",
        ),
        (
            f"check one volume against {n}, p99",
            f"{p99:.2f} ms",
            f"CPU {c99:.2f} ms; target < 5 ms: "
            + (("met" if p99 < 5.0 else "NOT met") if n == 1_000_000 else "for 1,000,000 only"),
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every size divided by 10")
    parser.add_argument("--runs", type=int, default=3, help="runs of detect_all (best kept)")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    load = os.getloadavg()[0]
    per_pair_s, rows = anchor(300 // (3 if args.quick else 1))
    n = 100_000 // scale
    rows += all_pairs(n, n / 100_000, per_pair_s, args.runs)  # the dense case: one week
    rows += all_pairs(n, 4 * n / 100_000, per_pair_s, args.runs)  # a quarter of the density
    rows += index_checks(1_000_000 // scale)
    rows.append(("peak memory (max RSS of the run)", f"{peak_rss_mb():.0f} MB", ""))
    # Other work on the machine slows wall times (CPU times much less): say how much.
    cores = os.cpu_count()
    rows.append(
        (
            "load average at start / end",
            f"{load:.1f} / {os.getloadavg()[0]:.1f}",
            f"{cores} CPUs; detect_all uses {min(cores or 1, 4)} threads",
        )
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'time':>10}  ratio / note")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>10}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
