"""Benchmark the evidence path on a large log: the audit before each signature, proofs,
and one evidence bundle's verification.

The audit rereads and rehashes every entry (``services/evidence/audit.py``): it is what a
node pays at every checkpoint exchange, so this is the number that says whether the
exchange interval fits the log's size. Entries are ~600 bytes, like a logged envelope.

Run from the repository root (SQLite in a temporary folder)::

    .venv/bin/python benchmarks/bench_evidence.py                 # 100,000 entries
    .venv/bin/python benchmarks/bench_evidence.py --entries 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from hotline.protocol import merkle
from hotline.services.evidence.audit import audit_log
from hotline.storage.db import Database
from hotline.storage.tables.core import log_entries, log_state


def fill(db: Database, count: int, chunk: int = 20_000) -> None:
    """Write ``count`` entries and the matching log_state, as appends would have."""
    frontier = merkle.Frontier.empty()
    filler = os.urandom(280).hex()  # ~600-byte entries
    for start in range(0, count, chunk):
        rows = []
        for i in range(start, min(count, start + chunk)):
            entry = json.dumps({"i": i, "body": filler}).encode()
            leaf = merkle.leaf_hash(entry)
            frontier.append(leaf)
            rows.append(
                {
                    "idx": i,
                    "kind": "envelope_in",
                    "ref": f"{i:036d}",
                    "entry": entry,
                    "leaf_hash": leaf,
                    "at": "2026-11-21T14:30:00.000Z",
                }
            )
        with db.write() as conn:
            conn.execute(insert(log_entries), rows)
    hexes = json.dumps([h.hex() for h in frontier.to_list()])
    with db.write() as conn:
        conn.execute(insert(log_state).values(id=1, size=frontier.size, frontier=hexes))


def seconds(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.migrate()
        print(f"filling {args.entries:,} entries …")
        fill(db, args.entries)
        with db.read() as conn:
            start = time.perf_counter()
            audit = audit_log(conn, [])
            audit_s = time.perf_counter() - start
        assert audit.whole, audit.summary()
        n = audit.size
        proof_s = seconds(lambda: audit.consistency_proof(n // 2, n))
        inclusion_s = seconds(lambda: audit.inclusion_proof(n // 3, n))
        db.dispose()
    print(
        f"  audit (reread + rehash every entry)   {audit_s:8.2f} s  ({n / audit_s:,.0f} entries/s)"
    )
    print(f"  consistency proof from leaf hashes    {proof_s:8.2f} s")
    print(f"  inclusion proof from leaf hashes      {inclusion_s:8.2f} s")


if __name__ == "__main__":
    main()
