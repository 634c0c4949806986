"""What authenticating a request costs: the token cache against the lookups it replaces.

Every operator request is authenticated (``Auth.authenticate``). Before the cache, that was
a read transaction with two statements (the token, then its user); now a validated token
costs a read transaction with one primary-key read of the one-row sessions generation.
This times, in the same run and on the same database (``--backend``):

- the anchor: the old lookups (``token_user`` + ``get`` in one read transaction);
- ``Auth.authenticate`` on a cached token, and its ratio to the anchor;

as mean microseconds of wall time and of this process's CPU per request (with PostgreSQL
the server's own CPU is not counted; the wall time shows it).

Run: ``.venv/bin/python benchmarks/bench_tokens.py [--requests 20000]
[--backend sqlite|postgresql]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hotline.clock import rfc3339
from hotline.node import init_node
from hotline.services.auth import _token_hash
from hotline.storage import users
from hotline.testing import DatabaseFactory

PASSWORD = "token-figures-passphrase"


def timed(fn: Callable[[], object], count: int) -> tuple[float, float]:
    """Mean (wall µs, CPU µs) of ``count`` calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        fn()
    return (
        (time.perf_counter() - wall) * 1e6 / count,
        (time.process_time() - cpu) * 1e6 / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-tokens-") as tmp:
        folder = Path(tmp)
        (folder / "db").mkdir()
        factory = DatabaseFactory(args.backend, folder / "db")
        try:
            node = init_node(
                folder / "us",
                party="us",
                name_en="US",
                endpoints=["http://127.0.0.1:9"],
                database_url=factory.new("tokens"),
                allow_plain_http=True,
            )
            node.auth.add_user("bench", PASSWORD)
            token, _ = node.auth.login("bench", PASSWORD)
            token_hash = _token_hash(token)

            def old() -> object:
                with node.db.read() as conn:
                    name = users.token_user(conn, token_hash, rfc3339(node.clock.now()))
                    return users.get(conn, name) if name else None

            assert old() is not None and node.auth.authenticate(token).name == "bench"
            old_wall, old_cpu = timed(old, args.requests)
            new_wall, new_cpu = timed(lambda: node.auth.authenticate(token), args.requests)
            print(f"{args.backend}: {args.requests:,} requests")
            print(f"  anchor: token + user lookups {old_wall:8.1f} µs wall {old_cpu:8.1f} µs CPU")
            print(
                f"  cached token (generation)    {new_wall:8.1f} µs wall {new_cpu:8.1f} µs CPU"
                f"  = {new_wall / old_wall:.2f} x anchor wall, {new_cpu / old_cpu:.2f} x CPU"
            )
            node.stop()
            node.db.dispose()
        finally:
            factory.drop_all()


if __name__ == "__main__":
    main()
