"""Tactical detection against BlueSky's, then at European and world scale.

Run from the repository root::

    .venv/bin/python benchmarks/bench_tactical.py [--quick]

Part 1, on the same dense traffic (a 450 km × 400 km box around 50°N 8°E) at 1,000 /
4,000 / 10,000 tracks: ``hotline.geo.tactical.detect`` against BlueSky's compiled
``cstatebased.detect`` and its NumPy ``StateBased.detect`` (Python geometry,
``prefer_compiled = False``), with time ratios and pair agreement. The NumPy one builds
some twenty N×N float matrices, so it is skipped at a size whose estimate exceeds half
the memory available.

Part 2, each in a fresh process for an honest peak: 100,000 tracks over the European
area (35–72°N, 25°W–45°E) and 1,000,000 over the whole globe, uniform by area, with
time, peak RSS (VmHWM) and peak traced allocations (tracemalloc). Every time is also
printed as a ratio to the compiled BlueSky time at 10,000 tracks measured in the same
run (the *anchor*), and the issue's absolute targets are rescaled by that anchor (it
quotes 2.7 s for it).

Times are CPU seconds of the process (``time.process_time``; best of 5 for ours, one
run for BlueSky), so that other work on a shared machine does not skew the ratios;
part 2 also prints wall time. Everything here is single-threaded.

Traffic: 60 % level at cruise levels every 1,000 ft from FL100 to FL400 (metres =
FL × 30.48, so adjacent levels sit 304.8 m apart, BlueSky's default ``hpz``, up to
rounding), the others anywhere from FL100 to FL400 climbing or descending at 2–15 m/s;
ground speeds 120–260 m/s; tracks uniform. Defaults: ``rpz`` 9,260 m (5 NM), ``hpz``
304.8 m (1,000 ft), look-ahead 300 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from hotline.geo.tactical import detect  # noqa: E402

FloatArray = npt.NDArray[np.float64]
RPZ, HPZ, LOOKAHEAD = 9260.0, 304.8, 300.0
ISSUE_ANCHOR_S = 2.7  # the issue's compiled BlueSky time at 10,000 dense tracks


@dataclass(frozen=True)
class Traffic:
    lat: FloatArray
    lon: FloatArray
    alt: FloatArray
    gs: FloatArray
    trk: FloatArray
    vs: FloatArray

    def arrays(self) -> tuple[FloatArray, ...]:
        return self.lat, self.lon, self.alt, self.gs, self.trk, self.vs


def _kinematics(rng: np.random.Generator, n: int) -> tuple[FloatArray, ...]:
    level = rng.random(n) < 0.6
    cruise = rng.integers(10, 41, n) * 10 * 30.48  # FL100..FL400 every 1,000 ft, m
    alt = np.where(level, cruise, rng.uniform(3048.0, 12192.0, n))
    climb = rng.uniform(2.0, 15.0, n) * rng.choice([-1.0, 1.0], n)
    vs = np.where(level, 0.0, climb)
    return alt, rng.uniform(120.0, 260.0, n), rng.uniform(0.0, 360.0, n), vs


def dense_box(n: int, seed: int = 0) -> Traffic:
    """``n`` tracks in a 450 km × 400 km box around 50°N 8°E."""
    rng = np.random.default_rng(seed)
    north = rng.uniform(-200e3, 200e3, n)
    east = rng.uniform(-225e3, 225e3, n)
    lat = 50.0 + np.degrees(north / 6371e3)
    lon = 8.0 + np.degrees(east / (6371e3 * np.cos(np.radians(50.0))))
    return Traffic(lat, lon, *_kinematics(rng, n))


def by_area(
    n: int, lat_range: tuple[float, float], lon_range: tuple[float, float], seed: int
) -> Traffic:
    """``n`` tracks uniform by area in a latitude/longitude rectangle."""
    rng = np.random.default_rng(seed)
    s0, s1 = np.sin(np.radians(lat_range))
    lat = np.degrees(np.arcsin(rng.uniform(s0, s1, n)))
    lon = rng.uniform(*lon_range, n)
    return Traffic(lat, lon, *_kinematics(rng, n))


CASES = {
    "europe": lambda n: by_area(n, (35.0, 72.0), (-25.0, 45.0), seed=2),
    "world": lambda n: by_area(n, (-90.0, 90.0), (-180.0, 180.0), seed=3),
}


def clock() -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds)."""
    return time.process_time(), time.perf_counter()


def since(start: tuple[float, float]) -> tuple[float, float]:
    cpu, wall = clock()
    return cpu - start[0], wall - start[1]


def ours(traffic: Traffic) -> tuple[float, set[tuple[int, int]]]:
    start = clock()
    result = detect(*traffic.arrays(), rpz_m=RPZ, hpz_m=HPZ, lookahead_s=LOOKAHEAD)
    elapsed = since(start)[0]
    return elapsed, set(map(tuple, result.pairs.tolist()))


def best_of(runs: int, traffic: Traffic) -> tuple[float, set[tuple[int, int]]]:
    times, pairs = [], set()
    for _ in range(runs):
        elapsed, pairs = ours(traffic)
        times.append(elapsed)
    return min(times), pairs


def edge_pairs(traffic: Traffic, pairs: set[tuple[int, int]]) -> int:
    """Pairs of level flights exactly ``hpz`` apart (to 1 mm): BlueSky NumPy's artefact."""
    return sum(
        1
        for i, j in pairs
        if traffic.vs[i] == traffic.vs[j] == 0.0
        and abs(abs(traffic.alt[i] - traffic.alt[j]) - HPZ) < 1e-3
    )


def mem_available() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return float(line.split()[1]) * 1024.0
    return float("inf")


def compare_with_bluesky(sizes: list[int], runs: int) -> float | None:
    """Part 1; returns the anchor (compiled BlueSky's CPU seconds at the largest size)."""
    from tests.geo import bluesky_ref

    bs = bluesky_ref.load()
    print(f"BlueSky compiled cstatebased: {'yes' if bs.cstatebased else 'not importable'}")
    print(
        f"{'N':>6} {'ours s':>8} {'cBS s':>8} {'cBS/ours':>9} {'npBS s':>8} {'npBS/ours':>9}"
        f" {'pairs':>7} {'only ours|cBS':>14} {'only ours|npBS':>15} {'npBS edge':>9}"
    )
    anchor = None
    for n in sizes:
        row, t_compiled = compare_one(bluesky_ref, bs, n, runs)
        anchor = t_compiled if n == max(sizes) else anchor
        print(" ".join(row))
        gc.collect()
    print(
        "only ours|X: pairs we report that X does not | pairs X reports that we do not;"
        " npBS edge: of the latter, level pairs exactly hpz apart (documented)."
    )
    return anchor


def compare_one(ref: Any, bs: Any, n: int, runs: int) -> tuple[list[str], float | None]:
    """One row of part 1: ours, compiled and NumPy BlueSky on the same dense tracks."""
    traffic = dense_box(n, seed=n)
    t_ours, got = best_of(runs, traffic)
    arrays = ref.TrafficArrays(*traffic.arrays())
    row, t_c = [f"{n:>6}", f"{t_ours:8.4f}"], None
    agree_c = agree_np = edge = "-"
    if bs.cstatebased is not None:
        start = clock()
        c_pairs, _ = ref.compiled_detect(bs, arrays, RPZ, HPZ, LOOKAHEAD)
        t_c = since(start)[0]
        row += [f"{t_c:8.3f}", f"{t_c / t_ours:8.0f}x"]
        agree_c = f"{len(got - c_pairs)}|{len(c_pairs - got)}"
    else:
        row += [f"{'-':>8}", f"{'-':>9}"]
    if 20 * 8.0 * n * n < 0.5 * mem_available():  # ~20 live N×N float matrices
        start = clock()
        np_pairs, _, _ = ref.numpy_detect(bs, arrays, RPZ, HPZ, LOOKAHEAD)
        t_np = since(start)[0]
        row += [f"{t_np:8.3f}", f"{t_np / t_ours:8.0f}x"]
        agree_np = f"{len(got - np_pairs)}|{len(np_pairs - got)}"
        edge = f"{edge_pairs(traffic, np_pairs - got)}"
    else:
        row += [f"{'skip':>8}", f"{'(mem)':>9}"]
    row += [f"{len(got):>7}", f"{agree_c:>14}", f"{agree_np:>15}", f"{edge:>9}"]
    return row, t_c


def high_water_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, reset by exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def scale_case(case: str, n: int, runs: int) -> dict[str, Any]:
    """One scale run, meant for a fresh process: times, then peaks."""
    traffic = CASES[case](n)
    ours(by_area(1000, (40.0, 50.0), (0.0, 10.0), seed=9))  # warm imports
    before = high_water_mb()
    cpu, wall, pairs = [], [], set()
    for _ in range(runs):
        start = clock()
        result = detect(*traffic.arrays(), rpz_m=RPZ, hpz_m=HPZ, lookahead_s=LOOKAHEAD)
        c, w = since(start)
        cpu.append(c)
        wall.append(w)
        pairs = set(map(tuple, result.pairs.tolist()))
        del result
    peak = high_water_mb()
    tracemalloc.start()
    ours(traffic)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "case": case,
        "n": n,
        "cpu_s": min(cpu),
        "wall_s": min(wall),
        "pairs": len(pairs),
        "rss_before_mb": before,
        "peak_rss_mb": peak,
        "traced_peak_mb": traced / 1e6,
    }


def run_scale(case: str, n: int, runs: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", case, "--n", str(n), "--runs", str(runs)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def report_scale(anchor: float | None, quick: bool) -> None:
    cases = [("europe", 100_000, 0.3), ("world", 1_000_000, 5.0)]
    if quick:
        cases = [("europe", 20_000, None), ("world", 100_000, None)]
    print(
        f"\n{'case':>7} {'N':>9} {'CPU s':>7} {'wall s':>7} {'/anchor':>8} {'target s':>9}"
        f" {'scaled target':>13} {'pairs':>7} {'RSS MB before':>13} {'peak':>6} {'traced MB':>9}"
    )
    for case, n, target in cases:
        r = run_scale(case, n, runs=1 if quick else 3)
        ratio = f"{r['cpu_s'] / anchor:8.3f}" if anchor else f"{'-':>8}"
        scaled = f"{target * anchor / ISSUE_ANCHOR_S:13.3f}" if anchor and target else f"{'-':>13}"
        tgt = f"{target:9.2f}" if target else f"{'-':>9}"
        print(
            f"{case:>7} {n:>9} {r['cpu_s']:7.3f} {r['wall_s']:7.3f} {ratio} {tgt} {scaled}"
            f" {r['pairs']:>7} {r['rss_before_mb']:13.0f} {r['peak_rss_mb']:6.0f}"
            f" {r['traced_peak_mb']:9.0f}"
        )
    print(
        "/anchor: CPU time over compiled BlueSky's at 10,000 dense tracks in this run;"
        f" scaled target = target × anchor / {ISSUE_ANCHOR_S} s (the issue's anchor)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    parser.add_argument("--case", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(scale_case(args.case, args.n, args.runs)))
        return
    sizes = [1000, 4000] if args.quick else [1000, 4000, 10_000]
    anchor = compare_with_bluesky(sizes, runs=1 if args.quick else 5)
    if anchor:
        print(f"anchor (compiled BlueSky at {max(sizes)} dense tracks): {anchor:.3f} s")
    report_scale(anchor, args.quick)


if __name__ == "__main__":
    main()
