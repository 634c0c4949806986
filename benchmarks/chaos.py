"""The fault harness at any scale: two real nodes, proxies that cut, delay and drop, SIGKILLs,
clock steps, load through the operator API — then every invariant checked.

The harness itself is :mod:`hotline.testing_chaos` (the suite runs a small scale of the
same code in ``tests/e2e/test_chaos.py``). This script picks the scale and the seed,
prints the plan and the summary, and exits 1 on any violation (2 on a harness failure).

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/chaos.py --seed 7 --messages 2000
--kills 20 --partitions 10 --clock-steps 2 --duration 240``. Without ``--seed`` a seed is
drawn and printed; the same command with ``--seed`` replays the same plan of faults and
load (the machine's timing still varies from run to run).
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

from hotline.testing import cheap_password_hashing
from hotline.testing_chaos import ChaosConfig, databases_for, run_chaos


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="replay this seed")
    parser.add_argument("--messages", type=int, default=2000, help="messages in all")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of either node")
    parser.add_argument("--partitions", type=int, default=10, help="cuts, delays, drops")
    parser.add_argument("--clock-steps", type=int, default=2, help="one node's clock ±400 s")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds of load and faults (default: scaled)"
    )
    parser.add_argument("--drain-timeout", type=float, default=600.0)
    parser.add_argument("--bundles", type=int, default=20, help="bundles verified per side")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' folders")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    faults = args.kills + args.partitions + args.clock_steps
    duration = args.duration or max(30.0, args.messages / 12, faults * 8.0)
    config = ChaosConfig(
        seed=seed,
        messages=args.messages,
        kills=args.kills,
        partitions=args.partitions,
        clock_steps=args.clock_steps,
        backend=args.backend,
        duration=duration,
        drain_timeout=args.drain_timeout,
        bundles=args.bundles,
    )
    cheap_password_hashing()  # the officers' logins; no figure here depends on it
    print(f"chaos: replay with {config.replay()}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="hotline-chaos-"))
    start = time.monotonic()

    def log(line: str) -> None:
        print(f"[{time.monotonic() - start:7.1f}] {line}", flush=True)

    try:
        with databases_for(config.backend, folder / "db") as databases:
            findings = run_chaos(config, folder / "nodes", databases, log)
    finally:
        if args.keep:
            print(f"chaos: the nodes' folders are kept in {folder}")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    print(findings.summary())
    print(f"chaos: {time.monotonic() - start:.0f} s in all")
    return 0 if findings.ok else 1


if __name__ == "__main__":
    sys.exit(main())
