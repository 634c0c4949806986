"""The deadline tick's cost with many outbound messages awaiting acknowledgement.

``Deadlines.tick`` runs every second on the active process. It used to read every
unacknowledged outbound message and parse its envelope (about 13 µs each); it now reads
only the messages whose indexed ``due_at`` has come. This fills one node's outbox with
``--outstanding`` messages still within their deadlines (copies of one real signed
envelope, inserted in bulk) and times, in the same run:

- the anchor: the old tick (every open outbound message read and its first deadline
  computed: ``storage.messages.open_outbound`` + ``first_deadline``), as it was;
- the new tick (``Deadlines.tick``), and its ratio to the anchor;

each as the median over ``--ticks`` ticks of wall milliseconds and CPU milliseconds of
this process (with SQLite the database work is in this process; with PostgreSQL the
server's own CPU is not counted, the wall time shows it). The table is analysed after the
bulk load, as autovacuum soon would (without statistics PostgreSQL may not use the index).

Run: ``.venv/bin/python benchmarks/bench_deadlines.py [--outstanding 100000]
[--ticks 20] [--backend sqlite|postgresql]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, text

from hotline.domain.bodies import NO_ACK_TYPES
from hotline.node import Node, init_node
from hotline.services.line.deadlines import OPEN_STATES, first_deadline
from hotline.storage import messages as store
from hotline.storage.tables.core import messages
from hotline.testing import DatabaseFactory


def old_tick(node: Node) -> int:
    """The tick before ``due_at``: every open outbound message read, each one's first
    deadline worked out; returns how many were due (none, here)."""
    now = node.line.clock.now()
    with node.db.read() as conn:
        rows = store.open_outbound(conn, OPEN_STATES, NO_ACK_TYPES)
    return sum(
        1 for row in rows if now >= first_deadline(row, node.line.allowance(row["precedence"]))
    )


def timed(fn: Callable[[], object], ticks: int) -> tuple[float, float]:
    """Median (wall ms, CPU ms) of ``ticks`` calls."""
    walls, cpus = [], []
    for _ in range(ticks):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append((time.process_time() - cpu) * 1e3)
        walls.append((time.perf_counter() - wall) * 1e3)
    return statistics.median(walls), statistics.median(cpus)


def fill(node: Node, count: int) -> None:
    """``count`` outstanding ROUTINE messages: one real envelope, its copies in bulk."""
    sent = node.line.send(to="ru", text="x" * 200, precedence="ROUTINE", user="bench")
    with node.db.read() as conn:
        row = store.get(conn, sent["id"])
    assert row is not None
    template = {k: v for k, v in row.items() if k in messages.c}
    envelope = json.loads(row["envelope"])
    batch = []
    with node.db.write() as conn:
        for seq in range(2, count + 1):
            envelope["id"] = str(uuid.uuid4())
            copy = {"id": envelope["id"], "seq": seq, "envelope": json.dumps(envelope)}
            batch.append(template | copy | {"client_ref": None})
            if len(batch) == 5000:
                conn.execute(insert(messages), batch)
                batch = []
        if batch:
            conn.execute(insert(messages), batch)
    with node.db.write() as conn:  # what autovacuum does soon after such a load
        conn.execute(text("ANALYZE messages"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--outstanding", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-deadlines-") as tmp:
        folder = Path(tmp)
        (folder / "db").mkdir()
        factory = DatabaseFactory(args.backend, folder / "db")
        try:
            nodes = {
                party: init_node(
                    folder / party,
                    party=party,
                    name_en=party.upper(),
                    endpoints=[f"http://127.0.0.1:{9 + i}"],
                    database_url=factory.new(party),
                    allow_plain_http=True,
                )
                for i, party in enumerate(("us", "ru"))
            }
            nodes["us"].add_peer(nodes["ru"].identity.card().wire())
            node = nodes["us"]
            start = time.perf_counter()
            fill(node, args.outstanding)
            print(
                f"{args.backend}: {args.outstanding:,} outstanding messages "
                f"(filled in {time.perf_counter() - start:.1f} s)"
            )
            assert old_tick(node) == 0
            node.deadlines.tick()  # warm both
            old_wall, old_cpu = timed(lambda: old_tick(node), args.ticks)
            new_wall, new_cpu = timed(node.deadlines.tick, args.ticks)
            print(f"  anchor: old tick (scan)  {old_wall:10.2f} ms wall {old_cpu:10.2f} ms CPU")
            print(
                f"  tick via due_at index    {new_wall:10.2f} ms wall {new_cpu:10.2f} ms CPU"
                f"  = {new_wall / old_wall:.5f} x anchor wall, "
                f"{new_cpu / max(old_cpu, 1e-9):.5f} x anchor CPU"
            )
            print(
                f"  per outstanding message: old {old_cpu * 1e3 / args.outstanding:.2f} µs CPU, "
                f"new {new_cpu * 1e3 / args.outstanding:.4f} µs CPU"
            )
            for each in nodes.values():
                each.stop()
                each.db.dispose()
        finally:
            factory.drop_all()


if __name__ == "__main__":
    main()
