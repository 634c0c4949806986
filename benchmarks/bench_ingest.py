"""Sustained ingest: aircraft (SBS-1) and ships (AIS) through the feed adapters over real
sockets, every report recorded, the picture assessed every second.

The issue's target is 10,000 aircraft at 1 Hz and 100,000 ships every 10 s: 20,000
reports/s. A sender *process* (so that its CPU is not the node's) serves one SBS-1 port
for the aircraft and AIS ports of at most 20,000 ships each (a decoder follows at most
``MAX_TRACKS``: several receivers, as in life), and sends each second every aircraft's
position (``MSG,3``) and a tenth of the ships' position reports (type 1). A real node
(PostgreSQL by default, as in production; ``--db sqlite`` for the default single file),
active, its feeds connected, records and assesses them. In one run it prints:

- **anchor**: the raw decode rate of the same libraries alone on the same mix
  (``bytes.split`` of each SBS-1 line, ``pyais.decode`` of each sentence), reports/s;
- **ingest**: reports/s decoded, taken by the picture and recorded (rows counted in the
  database), over the measured rounds (after ``--warmup`` s), beside the offered rate;
- **CPU**: the node process's CPU ms per recorded report (all its threads), and the whole
  machine's (``/proc/stat``: the database server's, and any other work on the machine);
- **lag**: how old the last finished assessment is when looked at (every 0.1 s): p50,
  p95, max; an assessment's own duration; and how long after the last round the last
  report was recorded (drain);
- **rebuild**: how long a restarted node takes to take its picture back from the record;
- **growth**: the record's bytes per report (table and indexes) and per hour at the rate
  recorded and at the target rate;
- **where the time goes**: seconds of wall time spent in decoding, recording, the rest of
  taking a report, and assessing (threads overlap; ratios against the run's length).

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--small] [--aircraft N] [--ships N]
[--seconds S] [--db postgresql|sqlite]``. ``--small`` (1,000 aircraft, 10,000 ships,
2,000 reports/s, 12 s) finishes within two minutes.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyais

from hotline.node import Node, init_node
from hotline.protocol.feeds.common import MAX_TRACKS
from hotline.storage.db import Database
from hotline.testing import DatabaseFactory, free_port, postgres_available, wait_for

SHIP_EVERY_S = 10


def sbs1_round(aircraft: int, k: int) -> bytes:
    """Every aircraft's position in round ``k`` (they drift east 0.001° a second)."""
    lines = []
    for i in range(aircraft):
        lat, lon = 30.0 + (i % 100) * 0.1, 30.0 + (i // 100) * 0.1 + k * 0.001
        lines.append(
            f"MSG,3,1,1,{0x400000 + i:06X},1,2026/12/07,04:00:00.000,2026/12/07,"
            f"04:00:00.000,,{10000 + i % 300 * 100},,,{lat:.5f},{lon:.5f},,,0,0,0,0\n"
        )
    return "".join(lines).encode()


def ais_sentences(ships: int) -> list[bytes]:
    out = []
    for i in range(ships):
        fields = {"msg_type": 1, "mmsi": 200000000 + i, "lat": 30.0 + (i % 300) * 0.03,
                  "lon": 25.0 + (i // 300) * 0.03, "speed": 12.0, "course": 90.0}  # fmt: skip
        out.append((pyais.encode_dict(fields)[0] + "\n").encode())
    return out


def sender(sbs_port: int, ais_ports: list[int], aircraft: int, ships: int, seconds: int,
           ready: Any, started: Any) -> None:  # fmt: skip
    """The receivers: serve the ports, wait for the node, then send ``seconds`` rounds."""
    servers = [socket.create_server(("127.0.0.1", p)) for p in (sbs_port, *ais_ports)]
    sentences = ais_sentences(ships)
    per_port = math.ceil(ships / max(1, len(ais_ports)))
    ready.set()
    clients = [s.accept()[0] for s in servers]
    started.set()
    t0 = time.monotonic()
    try:
        for k in range(seconds):
            clients[0].sendall(sbs1_round(aircraft, k))
            for p, client in enumerate(clients[1:]):
                mine = sentences[p * per_port : (p + 1) * per_port]
                client.sendall(b"".join(mine[k % SHIP_EVERY_S :: SHIP_EVERY_S]))
            time.sleep(max(0.0, t0 + k + 1 - time.monotonic()))
    except OSError:
        return  # the node stopped (the measurement is over)
    time.sleep(30)  # keep the connections open while the node drains
    for c in clients:
        c.close()


def anchor_rate(aircraft: int, ships: int) -> float:
    """Reports/s of the libraries alone on the same mix (one round's aircraft and ships)."""
    lines = sbs1_round(min(aircraft, 20_000), 0).splitlines()
    sentences = [s.strip() for s in ais_sentences(min(ships, 20_000) // SHIP_EVERY_S or 1)]
    t = time.perf_counter()
    for line in lines:
        line.split(b",")
    sbs_s = (time.perf_counter() - t) / len(lines)
    t = time.perf_counter()
    for s in sentences:
        pyais.decode(s)
    ais_s = (time.perf_counter() - t) / len(sentences)
    per_s_ships = ships / SHIP_EVERY_S
    return (aircraft + per_s_ships) / (aircraft * sbs_s + per_s_ships * ais_s)


class Meter:
    """Wall time spent in wrapped callables (per name), and the assessments' times."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.lock = threading.Lock()
        self.assessed: list[tuple[float, float]] = []  # (started, duration) wall

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                d = time.perf_counter() - t
                with self.lock:
                    self.spent[name] = self.spent.get(name, 0.0) + d
                    if name == "assess":
                        self.assessed.append((time.time() - d, d))

        return timed


def machine_cpu_s() -> float:
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def rows_and_bytes(db: Database) -> tuple[int, int]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        rows = int(conn.execute(text("SELECT count(*) FROM track_positions")).scalar() or 0)
        if db.is_sqlite:
            path = Path(db.url.removeprefix("sqlite:///"))
            size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
        else:
            sql = "SELECT pg_total_relation_size('track_positions')"
            size = int(conn.execute(text(sql)).scalar() or 0)
    return rows, size


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    factory = DatabaseFactory("postgresql", tmp)
    try:
        yield factory.new("ingest")
    finally:
        factory.drop_all()


def run(args: argparse.Namespace, url: str, tmp: Path) -> None:
    anchor = anchor_rate(args.aircraft, args.ships)
    node: Node = init_node(tmp / "us", party="us", name_en="United States", database_url=url,
                           settings={"track_ttl_s": 60})  # fmt: skip
    meter = Meter()
    node.tracks.assess = meter.wrap("assess", node.tracks.assess)  # type: ignore[method-assign]
    node.tracks.record.add = meter.wrap("record", node.tracks.record.add)  # type: ignore[method-assign]
    node.tracks.take = meter.wrap("take (all)", node.tracks.take)  # type: ignore[method-assign]
    node.start()
    wait_for(lambda: node.active, "active", timeout=60)
    sbs_port = free_port()
    ais_ports = [free_port() for _ in range(math.ceil(args.ships / MAX_TRACKS))]
    ready, started = mp.Event(), mp.Event()
    proc = mp.Process(target=sender, args=(sbs_port, ais_ports, args.aircraft, args.ships,
                                           args.seconds, ready, started), daemon=True)  # fmt: skip
    proc.start()
    ready.wait(300)
    node.feeds.add("adsb", kind="sbs1", connect=f"127.0.0.1:{sbs_port}", party="us")
    for k, port in enumerate(ais_ports):
        node.feeds.add(f"ais{k}", kind="ais", connect=f"127.0.0.1:{port}", party="ru")
    names = ["adsb", *(f"ais{k}" for k in range(len(ais_ports)))]
    sources = [wait_for(lambda n=n: node.feeds._sources.get(n), n, timeout=60) for n in names]
    for s in sources:
        s.decoder.feed = meter.wrap("decode", s.decoder.feed)  # type: ignore[method-assign]
    started.wait(60)
    t_start = time.monotonic()

    def totals() -> tuple[int, int]:
        snaps = [s.health.snapshot() for s in sources]
        return sum(h["decoded"] for h in snaps), sum(h["reports"] for h in snaps)

    lags: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            with meter.lock:
                last = meter.assessed[-1] if meter.assessed else None
            if last is not None and time.monotonic() - t_start > args.warmup:
                lags.append(time.time() - last[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(args.warmup)
    d0, r0 = totals()
    rows0, bytes0 = rows_and_bytes(node.db)
    cpu0, mcpu0, w0 = time.process_time(), machine_cpu_s(), time.perf_counter()
    spent0 = dict(meter.spent)
    time.sleep(max(1.0, args.seconds - args.warmup))
    d1, r1 = totals()
    rows1, bytes1 = rows_and_bytes(node.db)
    cpu1, mcpu1, w1 = time.process_time(), machine_cpu_s(), time.perf_counter()
    spent1 = dict(meter.spent)
    last_round = time.monotonic()
    drained = last_round
    seen = r1
    while time.monotonic() - drained < 3.0 and time.monotonic() - last_round < 60:
        time.sleep(0.2)
        _, now_r = totals()
        if now_r != seen:
            seen, drained = now_r, time.monotonic()
    stop.set()
    node.stop()
    proc.terminate()
    # a restart: the picture taken back from the record (the last track_ttl_s of it)
    again = Node(node.settings)
    t = time.perf_counter()
    loaded = again.tracks.load()
    rebuild_s = time.perf_counter() - t
    again.db.dispose()

    wall = w1 - w0
    offered = args.aircraft + args.ships / SHIP_EVERY_S
    recorded = rows1 - rows0
    n = max(recorded, 1)
    per_report = (bytes1 - bytes0) / n
    durations = [d for _s, d in meter.assessed]
    print(f"{args.aircraft} aircraft at 1 Hz + {args.ships} ships every {SHIP_EVERY_S} s = "
          f"{offered:.0f} reports/s offered; {len(sources)} sources; {wall:.0f} s measured "
          f"after {args.warmup} s; database {args.db}")  # fmt: skip
    say("anchor (decoders alone)", f"{anchor:10.0f} reports/s")
    say(
        "decoded",
        f"{(d1 - d0) / wall:10.0f} reports/s   ({(d1 - d0) / wall / anchor:.3f} x anchor)",
    )
    say("taken by the picture", f"{(r1 - r0) / wall:10.0f} reports/s   "
        f"({(r1 - r0) / wall / offered:.3f} x offered)")  # fmt: skip
    say("recorded (rows)", f"{recorded / wall:10.0f} reports/s")
    say(
        "node CPU",
        f"{1000 * (cpu1 - cpu0) / n:10.3f} ms/report   ({(cpu1 - cpu0) / wall:.2f} cores)",
    )
    say("machine CPU (all of it)", f"{1000 * (mcpu1 - mcpu0) / n:10.3f} ms/report   "
        f"({(mcpu1 - mcpu0) / wall:.2f} cores of {os.cpu_count()})")  # fmt: skip
    if len(lags) > 1:
        q = statistics.quantiles(lags, n=20)
        say("picture age (lag)", f"p50 {q[9]:.2f} s, p95 {q[18]:.2f} s, max {max(lags):.2f} s")
    if durations:
        say("one assessment", f"p50 {statistics.median(durations):.2f} s, "
            f"max {max(durations):.2f} s, {len(durations)} in all")  # fmt: skip
    say("drain after the last round", f"{drained - last_round:.1f} s")
    say("picture rebuilt on start", f"{loaded} tracks from the record in {rebuild_s:.2f} s")
    say("record growth", f"{per_report:10.0f} bytes/report; "
        f"{per_report * recorded / wall * 3600 / 1e9:.2f} GB/h at the rate recorded, "
        f"{per_report * 20_000 * 3600 / 1e9:.2f} GB/h at 20,000/s")  # fmt: skip
    print("where the time goes (wall s in each, threads overlap; x measured wall):")
    for name in ("decode", "take (all)", "record", "assess"):
        spent = spent1.get(name, 0.0) - spent0.get(name, 0.0)
        print(f"  {name:12} {spent:8.1f} s   {spent / wall:6.2f} x")


def say(label: str, text: str) -> None:
    print(f"{label:27}{text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aircraft", type=int, default=10_000)
    parser.add_argument("--ships", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--small", action="store_true", help="1,000 aircraft, 10,000 ships")
    default_db = "postgresql" if postgres_available() else "sqlite"
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default=default_db)
    args = parser.parse_args()
    if args.small:
        args.aircraft, args.ships, args.seconds, args.warmup = 1_000, 10_000, 20, 8
    with tempfile.TemporaryDirectory() as tmp, database(args.db, Path(tmp)) as url:
        run(args, url, Path(tmp))


if __name__ == "__main__":
    main()
