"""Tactical detection: hand-computed encounters, properties, and BlueSky pair for pair.

Hand cases sit on the equator (or one latitude), where metres convert exactly in
BlueSky's flat geometry. Defaults: rpz 9,260 m, hpz 304.8 m, look-ahead 300 s.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hotline.geo.tactical.charts
import hotline.geo.tactical.cpa
import hotline.geo.tactical.engine
import hotline.geo.tactical.index
import hotline.geo.tactical.join
from hotline.errors import ValidationError
from hotline.geo.tactical.cpa import Relative, flat_frame, geodesic_frame, velocity, windows
from hotline.geo.tactical.engine import TacticalResult, detect
from hotline.geo.tactical.join import overlapping_boxes
from tests.geo import bluesky_ref
from tests.geo.conftest import Track, TrackArrays, place

RPZ, HPZ, LOOK = 9260.0, 304.8, 300.0
# BlueSky's NumPy code builds matrices with np.asmatrix, which warns on every call.
pytestmark = pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run(tracks: TrackArrays, **kw: float | str) -> TacticalResult:
    params: dict[str, float | str] = {"rpz_m": RPZ, "hpz_m": HPZ, "lookahead_s": LOOK}
    params.update(kw)
    return detect(*tracks.arrays(), **params)  # type: ignore[arg-type]


def pairs(result: TacticalResult) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in result.pairs]


# -- hand-computed encounters -----------------------------------------------------------


def test_head_on_conflicts_at_the_closing_speed() -> None:
    a = Track(0.0, 0.0, gs_mps=200.0, trk_deg=90.0)
    b = Track(30000.0, 0.0, gs_mps=200.0, trk_deg=270.0)
    r = run(place([a, b]))
    assert [(0, 1)] == pairs(r)
    # Closing at 400 m/s from 30 km: CPA at 75 s, inside 9,260 m from 51.85 s to 98.15 s.
    assert 75.0 == pytest.approx(r.tcpa_s[0])
    assert 0.0 == pytest.approx(r.dcpa_m[0], abs=1e-6)
    assert (51.85, 98.15) == pytest.approx((r.tin_s[0], r.tout_s[0]))
    assert [] == r.los.tolist()


def test_crossing_tracks_meet_at_the_crossing_point() -> None:
    a = Track(-20000.0, 0.0, gs_mps=200.0, trk_deg=90.0)
    b = Track(0.0, -20000.0, gs_mps=200.0, trk_deg=0.0)
    r = run(place([a, b]))
    assert [(0, 1)] == pairs(r)
    # Relative speed 200·√2 m/s; both reach the crossing at 100 s.
    assert 100.0 == pytest.approx(r.tcpa_s[0], abs=1e-3)
    assert 100.0 - 9260.0 / math.sqrt(80000.0) == pytest.approx(r.tin_s[0], abs=1e-3)


@pytest.mark.parametrize(
    ("lookahead", "expected"),
    [(300.0, [(0, 1)]), (214.0, [])],
    ids=["within-lookahead", "starts-after-lookahead"],
)
def test_overtaking_is_a_conflict_only_if_it_starts_within_the_lookahead(
    lookahead: float, expected: list[tuple[int, int]]
) -> None:
    # Closing at 50 m/s from 20 km: loss of separation from 214.8 s to 585.2 s.
    fast = Track(0.0, 0.0, gs_mps=250.0, trk_deg=90.0)
    slow = Track(20000.0, 0.0, gs_mps=200.0, trk_deg=90.0)
    r = run(place([fast, slow]), lookahead_s=lookahead)
    assert expected == pairs(r)


def test_overtaking_window_is_hand_computed() -> None:
    r = run(
        place(
            [
                Track(0.0, 0.0, gs_mps=250.0, trk_deg=90.0),
                Track(20000.0, gs_mps=200.0, trk_deg=90.0),
            ]
        )
    )
    assert (400.0, 214.8, 585.2) == pytest.approx((r.tcpa_s[0], r.tin_s[0], r.tout_s[0]))


@pytest.mark.parametrize(
    ("north_m", "expected_pairs", "expected_los"),
    [(15000.0, [], []), (5000.0, [(0, 1)], [(0, 1)])],
    ids=["15-km-apart", "5-km-apart"],
)
def test_parallel_tracks_conflict_only_when_already_too_close(
    north_m: float, expected_pairs: list[tuple[int, int]], expected_los: list[list[int]]
) -> None:
    a = Track(0.0, 0.0, gs_mps=220.0, trk_deg=90.0)
    b = Track(0.0, north_m, gs_mps=220.0, trk_deg=90.0)
    r = run(place([a, b]))
    assert expected_pairs == pairs(r)
    assert [list(p) for p in expected_los] == r.los.tolist()


def test_parallel_tracks_in_loss_stay_in_loss_beyond_the_lookahead() -> None:
    r = run(
        place(
            [
                Track(0.0, 0.0, gs_mps=220.0, trk_deg=90.0),
                Track(0.0, 5000.0, gs_mps=220.0, trk_deg=90.0),
            ]
        )
    )
    assert r.tin_s[0] < 0.0 < LOOK < r.tout_s[0]
    assert 5000.0 == pytest.approx(r.dcpa_m[0])


@pytest.mark.parametrize(
    ("east_m", "expected_pairs", "expected_tout"),
    [(15000.0, [], None), (5000.0, [(0, 1)], 10.65)],
    ids=["separated", "in-loss-leaving"],
)
def test_diverging_tracks_conflict_only_while_still_in_loss(
    east_m: float, expected_pairs: list[tuple[int, int]], expected_tout: float | None
) -> None:
    a = Track(0.0, 0.0, gs_mps=200.0, trk_deg=270.0)
    b = Track(east_m, 0.0, gs_mps=200.0, trk_deg=90.0)
    r = run(place([a, b]))
    assert expected_pairs == pairs(r)
    if expected_tout is not None:
        # Opening at 400 m/s from 5 km: out of the 9,260 m radius after 10.65 s.
        assert expected_tout == pytest.approx(r.tout_s[0], abs=1e-3)


@pytest.mark.parametrize(
    ("vs", "expected"),
    [(10.0, (69.52, 130.48)), (2.0, None)],
    ids=["climbs-through-in-time", "too-slow-to-reach"],
)
def test_vertical_only_approach(vs: float, expected: tuple[float, float] | None) -> None:
    # Same velocity, 500 m apart; 1,000 m below the other and climbing.
    a = Track(0.0, 0.0, alt_m=3000.0, gs_mps=200.0, trk_deg=45.0, vs_mps=vs)
    b = Track(500.0, 0.0, alt_m=4000.0, gs_mps=200.0, trk_deg=45.0)
    r = run(place([a, b]))
    if expected is None:
        assert [] == pairs(r)
    else:
        assert [(0, 1)] == pairs(r)
        assert expected == pytest.approx((r.tin_s[0], r.tout_s[0]))
        assert [] == r.los.tolist()


def test_already_in_loss_of_separation_is_reported_as_los_and_conflict() -> None:
    a = Track(0.0, 0.0, alt_m=10000.0, gs_mps=230.0, trk_deg=0.0)
    b = Track(3000.0, 0.0, alt_m=10100.0, gs_mps=180.0, trk_deg=300.0)
    r = run(place([a, b]))
    assert [[0, 1]] == r.los.tolist()
    assert [(0, 1)] == pairs(r)
    assert r.tin_s[0] < 0.0 < r.tout_s[0]


def test_head_on_across_the_antimeridian() -> None:
    west = Track(-5000.0, 0.0, gs_mps=200.0, trk_deg=90.0)  # at 179.955°E
    east = Track(5000.0, 0.0, gs_mps=200.0, trk_deg=270.0)  # at 179.955°W
    tracks = place([west, east], lat0=0.0, lon0=180.0)
    assert tracks.lon[0] > 179.0 and tracks.lon[1] < -179.0
    for geometry in ("flat", "geodesic"):
        r = run(tracks, geometry=geometry)
        assert [(0, 1)] == pairs(r)
        assert 25.0 == pytest.approx(r.tcpa_s[0], rel=2e-3)


def test_near_the_pole_flat_and_geodesic_geometry_differ_as_documented() -> None:
    # Two still tracks at 89.9°N on opposite meridians: 0.2° of arc apart over the pole.
    # BlueSky's flat earth puts them R·π·cos(89.9°) = 34,933 m apart; WGS84 says 22,339 m.
    tracks = TrackArrays(
        *(
            np.array(v)
            for v in ([89.9, 89.9], [0.0, 180.0], [9000.0] * 2, [0.0] * 2, [0.0] * 2, [0.0] * 2)
        )
    )
    flat = run(tracks, rpz_m=30000.0)
    geodesic = run(tracks, rpz_m=30000.0, geometry="geodesic")
    assert [] == pairs(flat)
    assert [(0, 1)] == pairs(geodesic)
    assert 22338.8 == pytest.approx(geodesic.dcpa_m[0], abs=0.5)
    assert [[0, 1]] == geodesic.los.tolist()


def test_geodesic_distance_on_the_equator_is_the_wgs84_arc() -> None:
    tracks = TrackArrays(
        *(
            np.array(v)
            for v in ([0.0, 0.0], [0.0, 0.1], [9000.0] * 2, [0.0] * 2, [0.0] * 2, [0.0] * 2)
        )
    )
    r = run(tracks, rpz_m=12000.0, geometry="geodesic")
    assert 6378137.0 * math.radians(0.1) == pytest.approx(r.dcpa_m[0], abs=1e-3)


@pytest.mark.parametrize(
    ("upper_alt", "expected"),
    [(HPZ, []), (HPZ - 0.01, [(0, 1)]), (HPZ + 0.01, [])],
    ids=["exactly-hpz-is-separation", "just-inside", "just-outside"],
)
def test_level_flights_exactly_hpz_apart_are_separated(
    upper_alt: float, expected: list[tuple[int, int]]
) -> None:
    a = Track(0.0, 0.0, alt_m=0.0, gs_mps=200.0, trk_deg=90.0)
    b = Track(20000.0, 0.0, alt_m=upper_alt, gs_mps=200.0, trk_deg=270.0)
    assert expected == pairs(run(place([a, b])))


def test_bluesky_numpy_reports_the_exact_hpz_pair_in_one_direction_only(
    bluesky: bluesky_ref.BlueSky,
) -> None:
    # The artefact our semantics deliberately do not copy (see the module docs).
    a = Track(0.0, 0.0, alt_m=0.0, gs_mps=200.0, trk_deg=90.0)
    b = Track(20000.0, 0.0, alt_m=HPZ, gs_mps=200.0, trk_deg=270.0)
    t = place([a, b])
    _, _, directed = bluesky_ref.numpy_detect(
        bluesky, bluesky_ref.TrafficArrays(*t.arrays()), RPZ, HPZ, LOOK
    )
    assert [(1, 0)] == directed
    assert [] == pairs(run(t))


def test_party_filter_keeps_only_pairs_of_different_parties() -> None:
    head_on = [
        Track(0.0, 0.0, gs_mps=200.0, trk_deg=90.0),
        Track(30000.0, 0.0, gs_mps=200.0, trk_deg=270.0),
    ]
    t = place([*head_on, Track(0.0, 1000.0, gs_mps=200.0, trk_deg=90.0)])
    everyone = run(t)
    assert [(0, 1), (0, 2), (1, 2)] == pairs(everyone)
    split = detect(
        *t.arrays(), rpz_m=RPZ, hpz_m=HPZ, lookahead_s=LOOK, party=np.array(["us", "ru", "us"])
    )
    assert [(0, 1), (1, 2)] == pairs(split)
    assert [] == split.los.tolist()  # the only pair in loss now, (0, 2), is one party's


def test_a_track_exactly_at_a_pole_is_refused_only_by_geodesic_geometry() -> None:
    at_pole = TrackArrays(
        *(
            np.array(v)
            for v in ([90.0, 89.99], [0.0, 0.0], [9e3] * 2, [0.0] * 2, [0.0] * 2, [0.0] * 2)
        )
    )
    assert [(0, 1)] == pairs(run(at_pole))
    with pytest.raises(ValidationError, match="pole"):
        run(at_pole, geometry="geodesic")


def test_no_tracks_and_one_track_give_empty_results() -> None:
    for n in (0, 1):
        r = detect(*(np.zeros(n) for _ in range(6)), rpz_m=RPZ, hpz_m=HPZ, lookahead_s=LOOK)
        assert (0, 2) == r.pairs.shape
        assert (0, 2) == r.los.shape


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"lat": [0.0, 91.0]}, "lat[1]"),
        ({"alt_m": [0.0, float("nan")]}, "alt_m[1]"),
        ({"gs_mps": [0.0, -1.0]}, "gs_mps[1]"),
        ({"vs_mps": [0.0]}, "differ in length"),
        ({"rpz_m": 0.0}, "rpz_m"),
        ({"lookahead_s": -1.0}, "lookahead_s"),
        ({"geometry": "spherical"}, "geometry"),
        ({"party": ["a"]}, "party"),
    ],
)
def test_bad_input_raises_a_validation_error_naming_the_field(
    change: dict[str, object], fragment: str
) -> None:
    kw: dict[str, object] = {
        "lat": [0.0, 0.0],
        "lon": [0.0, 0.1],
        "alt_m": [0.0, 0.0],
        "gs_mps": [0.0, 0.0],
        "trk_deg": [0.0, 0.0],
        "vs_mps": [0.0, 0.0],
        "rpz_m": RPZ,
        "hpz_m": HPZ,
        "lookahead_s": LOOK,
    }
    kw.update(change)
    with pytest.raises(ValidationError) as err:
        detect(**kw)  # type: ignore[arg-type]
    assert fragment in str(err.value)


# -- properties -------------------------------------------------------------------------

LEVELS = [k * 304.8 for k in range(10, 41)]


@st.composite
def scenarios(draw: st.DrawFn, max_n: int = 30) -> tuple[TrackArrays, dict[str, float]]:
    """Small track sets, anywhere (poles and the antimeridian included), crowded."""
    n = draw(st.integers(2, max_n))
    lat0 = draw(st.one_of(st.floats(-85.0, 85.0), st.sampled_from([0.0, 79.5, -84.0, 88.0, -89.5])))
    lon0 = draw(st.one_of(st.floats(-180.0, 180.0), st.sampled_from([179.9, -179.95])))
    spread = draw(st.sampled_from([3e3, 30e3, 100e3, 250e3]))
    rows = draw(
        st.lists(
            st.tuples(
                st.floats(-1.0, 1.0),
                st.floats(-1.0, 1.0),
                st.one_of(st.sampled_from(LEVELS), st.floats(3000.0, 12500.0)),
                st.floats(0.0, 320.0),
                st.floats(0.0, 360.0, exclude_max=True),
                st.one_of(st.just(0.0), st.floats(-20.0, 20.0)),
            ),
            min_size=n,
            max_size=n,
        )
    )
    lat = np.clip([lat0 + math.degrees(r[1] * spread / 6371e3) for r in rows], -89.99999, 89.99999)
    cos0 = max(math.cos(math.radians(lat0)), 0.05)
    lon = np.array(
        [
            (lon0 + math.degrees(r[0] * spread / (6371e3 * cos0)) + 180.0) % 360.0 - 180.0
            for r in rows
        ]
    )
    cols = [np.array([r[k] for r in rows]) for k in range(2, 6)]
    params = {
        "rpz_m": draw(st.sampled_from([9260.0, 5556.0, 20000.0])),
        "hpz_m": draw(st.sampled_from([304.8, 150.0])),
        "lookahead_s": draw(st.sampled_from([0.0, 60.0, 300.0, 900.0])),
    }
    return TrackArrays(np.asarray(lat, dtype=float), lon, *cols), params


def brute_force(
    t: TrackArrays, geometry: str, rpz_m: float, hpz_m: float, lookahead_s: float
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Every pair through the same per-pair maths: what the candidate filter may not lose."""
    i, j = (k.astype(np.int64) for k in np.triu_indices(len(t.lat), 1))
    u, v = velocity(t.gs, t.trk)
    if geometry == "flat":
        frame = flat_frame(t.lat, t.lon, u, v, i, j)
    else:
        frame = geodesic_frame(t.lat, t.lon, t.gs, t.trk, i, j)
    w = windows(
        Relative(*frame, t.alt[j] - t.alt[i], t.vs[j] - t.vs[i]),
        rpz=rpz_m,
        hpz=hpz_m,
        lookahead=lookahead_s,
    )
    conflicts = [(int(a), int(b)) for a, b in zip(i[w.conflict], j[w.conflict], strict=True)]
    los = [(int(a), int(b)) for a, b in zip(i[w.los], j[w.los], strict=True)]
    return conflicts, los


@PROPERTY
@given(scenarios(), st.sampled_from(["flat", "geodesic"]))
def test_detect_finds_exactly_the_brute_force_pairs(
    scenario: tuple[TrackArrays, dict[str, float]], geometry: str
) -> None:
    tracks, params = scenario
    expected_conflicts, expected_los = brute_force(tracks, geometry, **params)
    r = detect(*tracks.arrays(), geometry=geometry, **params)  # type: ignore[arg-type]
    assert expected_conflicts == pairs(r)
    assert expected_los == [(int(a), int(b)) for a, b in r.los]


@PROPERTY
@given(scenarios(), st.data())
def test_party_filter_equals_filtering_all_pairs(
    scenario: tuple[TrackArrays, dict[str, float]], data: st.DataObject
) -> None:
    tracks, params = scenario
    n = len(tracks.lat)
    party = np.array(
        data.draw(st.lists(st.sampled_from(["us", "ru", "ua"]), min_size=n, max_size=n))
    )
    everyone = detect(*tracks.arrays(), **params)  # type: ignore[arg-type]
    split = detect(*tracks.arrays(), party=party, **params)  # type: ignore[arg-type]
    assert [p for p in pairs(everyone) if party[p[0]] != party[p[1]]] == pairs(split)


@PROPERTY
@given(scenarios(), st.randoms(use_true_random=False), st.sampled_from(["flat", "geodesic"]))
def test_permuting_the_tracks_permutes_the_pairs(
    scenario: tuple[TrackArrays, dict[str, float]], rnd: object, geometry: str
) -> None:
    tracks, params = scenario
    perm = np.arange(len(tracks.lat))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    shuffled = TrackArrays(*(a[perm] for a in tracks.arrays()))
    original = detect(*tracks.arrays(), geometry=geometry, **params)  # type: ignore[arg-type]
    permuted = detect(*shuffled.arrays(), geometry=geometry, **params)  # type: ignore[arg-type]
    back = sorted((min(perm[a], perm[b]), max(perm[a], perm[b])) for a, b in permuted.pairs)
    assert pairs(original) == [(int(a), int(b)) for a, b in back]


def _edge(t: TrackArrays, pair: tuple[int, int], hpz: float) -> bool:
    """BlueSky NumPy's documented artefact: pairs level relative to each other (within
    1e-6 m/s, BlueSky's vertical-speed floor) exactly hpz apart (to 1 mm)."""
    a, b = pair
    level = abs(t.vs[a] - t.vs[b]) <= 1e-6
    return bool(level and abs(abs(t.alt[a] - t.alt[b]) - hpz) < 1e-3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(max_n=40))
def test_flat_geometry_agrees_with_bluesky_numpy_pair_for_pair(
    bluesky: bluesky_ref.BlueSky, scenario: tuple[TrackArrays, dict[str, float]]
) -> None:
    tracks, params = scenario
    theirs, their_los, _ = bluesky_ref.numpy_detect(
        bluesky,
        bluesky_ref.TrafficArrays(*tracks.arrays()),
        params["rpz_m"],
        params["hpz_m"],
        params["lookahead_s"],
    )
    r = detect(*tracks.arrays(), **params)  # type: ignore[arg-type]
    ours = set(pairs(r))
    assert set() == ours - theirs
    assert set() == {p for p in theirs - ours if not _edge(tracks, p, params["hpz_m"])}
    assert their_los == {(int(a), int(b)) for a, b in r.los}


def test_flat_geometry_matches_bluesky_compiled_on_dense_traffic(
    bluesky: bluesky_ref.BlueSky,
) -> None:
    if bluesky.cstatebased is None:
        pytest.skip("BlueSky's compiled cstatebased is not importable")
    rng = np.random.default_rng(7)
    n = 1500
    lat = 50.0 + rng.uniform(-1.0, 1.0, n)
    lon = 8.0 + rng.uniform(-1.5, 1.5, n)
    level = rng.random(n) < 0.6
    alt = np.where(level, rng.integers(10, 41, n) * 304.8, rng.uniform(3048.0, 12192.0, n))
    vs = np.where(level, 0.0, rng.uniform(-15.0, 15.0, n))
    t = TrackArrays(lat, lon, alt, rng.uniform(120.0, 260.0, n), rng.uniform(0.0, 360.0, n), vs)
    theirs, their_los = bluesky_ref.compiled_detect(
        bluesky, bluesky_ref.TrafficArrays(*t.arrays()), RPZ, HPZ, LOOK
    )
    r = run(t)
    assert theirs == set(pairs(r))
    assert their_los == {(int(a), int(b)) for a, b in r.los}
    assert len(theirs) > 100  # the comparison is not vacuous


@st.composite
def box_sets(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, float | None, tuple[int, int], int]:
    n = draw(st.integers(2, 60))
    d = draw(st.integers(2, 4))
    period = draw(st.sampled_from([None, 100.0]))
    centre = np.array(
        draw(
            st.lists(st.lists(st.floats(0.0, 99.9), min_size=n, max_size=n), min_size=d, max_size=d)
        )
    )
    scale = draw(st.floats(0.1, 20.0))
    half = (
        np.array(
            draw(
                st.lists(
                    st.lists(st.floats(0.01, 1.0), min_size=n, max_size=n), min_size=d, max_size=d
                )
            )
        )
        * scale
    )
    if period is not None:
        half[0] = np.minimum(half[0], period / 6.0)
    axes = draw(st.permutations(list(range(d))))
    return centre - half, centre + half, period, (axes[0], axes[1]), axes[-1]


@PROPERTY
@given(box_sets(), st.booleans())
def test_box_join_finds_exactly_the_overlapping_pairs(
    case: tuple[np.ndarray, np.ndarray, float | None, tuple[int, int], int], once: bool
) -> None:
    lo, hi, period, strata, sweep = case
    a, b = overlapping_boxes(lo, hi, strata=strata, sweep=sweep, period=period, once=once)
    found = list(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
    # once=True: each pair exactly once; once=False: each at least once.
    got = sorted(found) if once else sorted(set(found))
    n = lo.shape[1]
    expected = []
    for i in range(n):
        for j in range(i + 1, n):
            ok = True
            for ax in range(lo.shape[0]):
                if ax == 0 and period is not None:
                    gap = (lo[0, j] + hi[0, j] - lo[0, i] - hi[0, i]) / 2.0
                    gap = (gap + period / 2.0) % period - period / 2.0
                    ok &= abs(gap) < (hi[0, i] - lo[0, i] + hi[0, j] - lo[0, j]) / 2.0
                else:
                    ok &= bool(lo[ax, i] < hi[ax, j] and lo[ax, j] < hi[ax, i])
            if ok:
                expected.append((i, j))
    assert expected == got


@pytest.mark.parametrize(
    "module",
    [
        hotline.geo.tactical.engine,
        hotline.geo.tactical.cpa,
        hotline.geo.tactical.index,
        hotline.geo.tactical.join,
        hotline.geo.tactical.charts,
    ],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_run(module: object) -> None:
    failures, tried = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)  # type: ignore[arg-type]
    assert 0 == failures
    assert tried > 0


@pytest.mark.parametrize("geometry", ["flat", "geodesic"])
@pytest.mark.parametrize("lat0", [0.0, 60.0, 88.0])
def test_extreme_speeds_and_lookahead_still_match_the_brute_force(
    geometry: str, lat0: float
) -> None:
    # Mach 6 and an hour ahead: boxes wider than a latitude band or the globe's
    # circumference at 88°, which the filter must handle by filtering less, not by missing.
    rng = np.random.default_rng(11)
    n = 80
    lat = np.clip(lat0 + rng.uniform(-10.0, 10.0, n), -89.9, 89.9)
    lon = rng.uniform(-180.0, 180.0, n)
    t = TrackArrays(
        lat,
        lon,
        rng.uniform(9000.0, 9600.0, n),
        rng.uniform(0.0, 2000.0, n),
        rng.uniform(0.0, 360.0, n),
        np.zeros(n),
    )
    params = {"rpz_m": 50000.0, "hpz_m": 304.8, "lookahead_s": 3600.0}
    expected_conflicts, expected_los = brute_force(t, geometry, **params)
    r = detect(*t.arrays(), geometry=geometry, **params)  # type: ignore[arg-type]
    assert expected_conflicts == pairs(r)
    assert expected_los == [(int(a), int(b)) for a, b in r.los]
    assert len(expected_conflicts) > 0
