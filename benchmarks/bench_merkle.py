"""Benchmark the Merkle log: Frontier appends and proofs at a million leaves.

Every figure is also given against raw ``hashlib.sha256`` measured in the same run,
so numbers from different machines compare: appends per second as a fraction of
SHA-256 calls per second (a Frontier append costs two node hashes amortised, so
~0.5 is the ceiling), proof times as the number of SHA-256 calls they cost.

Run from the repository root::

    .venv/bin/python benchmarks/bench_merkle.py            # 1,000,000 leaves
    .venv/bin/python benchmarks/bench_merkle.py --leaves 100000
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from hotline.protocol.merkle import (
    Frontier,
    consistency_proof_from_hashes,
    inclusion_proof_from_hashes,
    leaf_hash,
    root_from_hashes,
    verify_consistency,
    verify_inclusion_hash,
)


def sha256_per_second(calls: int = 1_000_000) -> float:
    """Raw hashlib.sha256 calls per second on a 65-byte node-hash input."""
    data, sha256 = b"\x01" + bytes(64), hashlib.sha256
    start = time.perf_counter()
    for _ in range(calls):
        sha256(data).digest()
    return calls / (time.perf_counter() - start)


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report(label: str, seconds: float, sha_rate: float) -> None:
    cost = seconds * sha_rate
    print(f"  {label:<40} {seconds * 1e3:10.3f} ms = {cost:12,.0f} SHA-256 calls")


def rate_line(label: str, rate: float, sha_rate: float) -> None:
    print(f"  {label:<40} {rate:12,.0f} /s = {rate / sha_rate:.3f} x SHA-256 rate")


def bench_appends(leaf_hashes: list[bytes], sha_rate: float) -> Frontier:
    n = len(leaf_hashes)
    frontier = Frontier.empty()
    start = time.perf_counter()
    for lh in leaf_hashes:
        frontier.append(lh)
    rate = n / (time.perf_counter() - start)
    rate_line("Frontier.append", rate, sha_rate)

    start = time.perf_counter()
    with_root = Frontier.empty()
    for lh in leaf_hashes[: n // 10]:
        with_root.append(lh)
        with_root.root()  # what a receipt needs after every append
    rate = (n // 10) / (time.perf_counter() - start)
    rate_line("append + root() each time", rate, sha_rate)

    entries = [b"envelope %d" % i for i in range(n // 10)]
    start = time.perf_counter()
    hashed = Frontier.empty()
    for entry in entries:
        hashed.append(leaf_hash(entry))
    rate = (n // 10) / (time.perf_counter() - start)
    rate_line("leaf_hash + append", rate, sha_rate)
    return frontier


def bench_proofs(leaf_hashes: list[bytes], tree_root: bytes, sha_rate: float) -> None:
    """Proofs from stored leaf hashes, as a node builds them: O(n) hashing each."""
    n = len(leaf_hashes)
    index, old = random.Random(8).randrange(n), n // 3 + 1
    seconds = timed(partial(inclusion_proof_from_hashes, leaf_hashes, index, n), 3)
    report("inclusion proof from leaf hashes", seconds, sha_rate)
    seconds = timed(partial(consistency_proof_from_hashes, leaf_hashes, old, n), 3)
    report("consistency proof from leaf hashes", seconds, sha_rate)
    proof = inclusion_proof_from_hashes(leaf_hashes, index, n)
    if not verify_inclusion_hash(leaf_hashes[index], index, n, proof, tree_root):
        raise SystemExit("the inclusion proof does not verify")


def bench_verify(leaf_hashes: list[bytes], tree_root: bytes, sha_rate: float) -> None:
    n = len(leaf_hashes)
    index, old = random.Random(9).randrange(n), n // 3 + 1
    proof = inclusion_proof_from_hashes(leaf_hashes, index, n)
    lh = leaf_hashes[index]
    seconds = timed(lambda: verify_inclusion_hash(lh, index, n, proof, tree_root), 500)
    report("verify_inclusion_hash", seconds, sha_rate)
    cproof = consistency_proof_from_hashes(leaf_hashes, old, n)
    old_root = root_from_hashes(leaf_hashes[:old])
    seconds = timed(lambda: verify_consistency(old, n, old_root, tree_root, cproof), 500)
    report("verify_consistency", seconds, sha_rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    n = parser.parse_args().leaves
    sha_rate = sha256_per_second()
    print(f"hashlib.sha256 (65-byte input): {sha_rate:,.0f} calls/s, {n:,} leaves")
    leaf_hashes = [leaf_hash(b"envelope %d" % i) for i in range(n)]
    print("appends")
    frontier = bench_appends(leaf_hashes, sha_rate)
    print("proof generation (median)")
    bench_proofs(leaf_hashes, frontier.root(), sha_rate)
    print("verification (median)")
    bench_verify(leaf_hashes, frontier.root(), sha_rate)


if __name__ == "__main__":
    main()
